import { Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SequelizeModule } from '@nestjs/sequelize';
import { enableRequestTransactions } from '../common/database/transaction-context';
import type { Environment } from '../config/environment';
import { pgConnectionOptions, pgDialectModule } from './connection-options';
import { DatabaseStatus } from './database-status';
import { MigrationsService } from './migrations.service';
import { ModelHooks } from './model-hooks';
import { PooledSessionLimits } from './pooled-session-limits';
import { ReplicasModule } from './replicas/replicas.module';
import { replicationOptions } from './replicas/replication';

@Module({
  imports: [
    SequelizeModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<Environment, true>) => {
        // Before the instance exists: request transactions reach every query through Sequelize's CLS hook.
        enableRequestTransactions();
        const sqlLogger = new Logger('SQL');
        return {
          dialect: 'postgres' as const,
          dialectModule: pgDialectModule,
          uri: config.getOrThrow('DATABASE_URL', { infer: true }),
          // With DATABASE_READ_URLS: reads outside a transaction from the replicas (replicas/replica-monitor.ts).
          replication: replicationOptions(config.getOrThrow('DATABASE_URL', { infer: true }), config.get('readUrls', { infer: true })),
          autoLoadModels: true,
          // The schema belongs to the migrations: never let the ORM alter it.
          synchronize: false,
          logging: config.get('sqlLogging', { infer: true }) ? (sql: string) => sqlLogger.log(sql) : false,
          pool: {
            max: config.get('DB_POOL_MAX', { infer: true }),
            min: config.get('DB_POOL_MIN', { infer: true }),
            acquire: config.get('DB_POOL_ACQUIRE_MS', { infer: true }),
            idle: config.get('DB_POOL_IDLE_MS', { infer: true }),
          },
          // Every round trip bounded: connect, statement, lock, idle transaction, client-side query time-out, keepalive.
          dialectOptions: pgConnectionOptions(config.get('databaseLimits', { infer: true })),
          // Behind a transaction pooler no session SET either (Sequelize's time zone and message level on each new
          // connection would stick to whichever server connection it got): timestamps travel with their offset anyway.
          ...(config.get('databaseLimits', { infer: true }).pooled && { keepDefaultTimezone: true }),
          retryAttempts: 2,
          retryDelay: 1000,
        };
      },
    }),
    ReplicasModule,
  ],
  providers: [MigrationsService, PooledSessionLimits, DatabaseStatus, ModelHooks],
  exports: [DatabaseStatus],
})
export class DatabaseModule {}
