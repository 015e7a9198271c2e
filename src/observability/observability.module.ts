/**
 * Metrics (/metrics, Prometheus), slow-request and slow-query logs. Global so that the exception filter can count
 * database errors with MetricsService. Tracing is not here: it must start before Nest and pg are loaded
 * (tracing.ts, called first by main.ts).
 */
import { Global, Module } from '@nestjs/common';
import { HttpObserver } from './http-observer';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { PoolMetrics } from './pool-metrics';
import { QueryObserver } from './query-observer';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, QueryObserver, HttpObserver, PoolMetrics],
  exports: [MetricsService],
})
export class ObservabilityModule {}
