import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { Draining } from './draining';
import { HealthController } from './health.controller';
import { MigrationsHealthIndicator } from './migrations.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [Draining, MigrationsHealthIndicator],
  // main.ts flips it on SIGTERM/SIGINT.
  exports: [Draining],
})
export class HealthModule {}
