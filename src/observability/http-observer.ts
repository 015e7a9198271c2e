/**
 * Fastify hooks for what is measured per request: the request histogram and in-flight gauge (metrics on), the
 * `slow request` warning (SLOW_REQUEST_MS > 0), the request id for slow-query lines (SLOW_QUERY_MS > 0) and the
 * route template of the trace's server span (tracing on). Each hook is registered only when its feature is on:
 * with all of them off, requests run no code of this file.
 */
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { Environment } from '../config/environment';
import { MetricsService, UNMATCHED_ROUTE } from './metrics.service';
import { requestIds } from './request-context';
import { traceRoutes, tracingStarted } from './tracing';

@Injectable()
export class HttpObserver implements OnModuleInit {
  private readonly logger = new Logger('SlowRequest');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: MetricsService,
    private readonly config: ConfigService<Environment, true>,
  ) {}

  /** Before Nest registers the routes, so that every route (and the 404 handler) runs these hooks. */
  onModuleInit(): void {
    const instance = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    // No HTTP server (a standalone application context): nothing to observe.
    if (!instance?.addHook) return;
    const slowRequestMs = this.config.get('SLOW_REQUEST_MS', { infer: true });
    if (tracingStarted()) traceRoutes(instance);
    if (this.config.get('SLOW_QUERY_MS', { infer: true }) > 0) {
      // Everything the request does from here on (guards, handler, its queries) runs with its id in context.
      instance.addHook('onRequest', (request, _reply, done) => requestIds.run(request.id, done));
    }
    if (this.metrics.enabled) {
      const metrics = this.metrics;
      instance.addHook('onRequest', (_request, reply, done) => {
        metrics.requestStarted();
        // 'close' comes for every response, also when the client went away before it was sent (no onResponse then).
        reply.raw.once('close', () => metrics.requestEnded());
        done();
      });
      instance.addHook('onResponse', (request, reply, done) => {
        metrics.requestCompleted(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
        done();
      });
    }
    if (slowRequestMs > 0) {
      const logger = this.logger;
      instance.addHook('onResponse', (request, reply, done) => {
        const ms = Math.round(reply.elapsedTime);
        if (ms > slowRequestMs) {
          logger.warn({ msg: 'slow request', reqId: request.id, method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status: reply.statusCode, ms });
        }
        done();
      });
    }
  }
}
