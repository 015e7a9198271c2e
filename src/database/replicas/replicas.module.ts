import { Global, Module } from '@nestjs/common';
import { RecentWriters } from './recent-writers';
import { ReplicaMonitor } from './replica-monitor';

/** Read replicas (DATABASE_READ_URLS): global, since every module's TransactionInterceptor records its writers. */
@Global()
@Module({
  providers: [RecentWriters, ReplicaMonitor],
  exports: [RecentWriters, ReplicaMonitor],
})
export class ReplicasModule {}
