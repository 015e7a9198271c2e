/**
 * OpenTelemetry tracing: one trace per HTTP request (instrumentation-http's server span, carrying the request id as
 * `http.request_id` and named by its route template), with a child span per SQL statement (instrumentation-pg).
 * Exported over OTLP/HTTP (protobuf) to OTEL_EXPORTER_OTLP_ENDPOINT; the standard OTEL_* variables (headers,
 * sampler, OTEL_SERVICE_NAME, …) apply. Without that endpoint nothing is loaded or patched: no cost at all.
 *
 * It patches `http` and `pg` as they are loaded, so it must start before the app (Nest, Fastify, Sequelize) is
 * required: main.ts calls it before loading the app. Fastify has no instrumentation here: the OpenTelemetry one
 * is deprecated and supports Fastify < 5 only, and @fastify/otel adds a span per hook; the server span gets the route
 * template from a Fastify hook instead (see http-observer.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Span } from '@opentelemetry/api';
import type { NodeSDK, NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import type { FastifyInstance } from 'fastify';

export const DEFAULT_SERVICE_NAME = 'nest-sequelize-service';
export const REQUEST_ID_ATTRIBUTE = 'http.request_id';
const REQUEST_ID_HEADER = 'x-request-id';

export interface TracingOptions {
  /**
   * Span processors to use instead of the OTLP exporter (tests: a SimpleSpanProcessor over an InMemorySpanExporter).
   * Given, tracing starts even without OTEL_EXPORTER_OTLP_ENDPOINT.
   */
  spanProcessors?: NodeSDKConfiguration['spanProcessors'];
}

export interface Tracing {
  /** Exports the spans still buffered, then removes the instrumentations. */
  shutdown(): Promise<void>;
}

let started: NodeSDK | undefined;

/** Whether startTracing() started the SDK in this process. */
export function tracingStarted(): boolean {
  return started !== undefined;
}

/** Starts tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set (or span processors are given); otherwise does nothing. */
export function startTracing(options: TracingOptions = {}): Tracing | undefined {
  if (started) throw new Error('Tracing is already started');
  if (!options.spanProcessors && !process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;

  // Loaded here, not at the top: a process without an endpoint never loads the SDK.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const exporter = options.spanProcessors
    ? undefined
    : // eslint-disable-next-line @typescript-eslint/no-require-imports
      new (require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME || DEFAULT_SERVICE_NAME,
    ...(exporter ? { traceExporter: exporter } : { spanProcessors: options.spanProcessors }),
    // Traces only: metrics are Prometheus' (/metrics), logs are pino's. Without these the SDK would also start OTLP
    // metric and log exporters to the same endpoint.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes every few seconds: traces of them would drown the requests worth looking at.
        ignoreIncomingRequestHook: (request) => isProbe(request.url),
        // The app's own outgoing HTTP (none today) is traced only within a request.
        requireParentforOutgoingSpans: true,
        // The request id is Fastify's (an accepted X-Request-Id, or a new UUID), sent back in X-Request-Id.
        applyCustomAttributesOnSpan: (span: Span, _request, response: IncomingMessage | ServerResponse) => {
          const id = 'getHeader' in response ? response.getHeader(REQUEST_ID_HEADER) : undefined;
          if (typeof id === 'string') span.setAttribute(REQUEST_ID_ATTRIBUTE, id);
        },
      }),
      // Statements outside any request (migrations, pool warm-up) make no traces of their own; no parameter values.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
    ],
  });
  sdk.start();
  started = sdk;
  return {
    shutdown: async () => {
      if (started !== sdk) return;
      started = undefined;
      await sdk.shutdown();
    },
  };
}

/**
 * Names each request's server span by its route template (`POST /api/v1/posts/:id`, attribute `http.route`), as a
 * framework instrumentation would: instrumentation-http reads the route from the request's RPC metadata.
 */
export function traceRoutes(instance: FastifyInstance): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { getRPCMetadata, RPCType } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { context } = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  instance.addHook('onRequest', (request, _reply, done) => {
    const metadata = getRPCMetadata(context.active());
    if (metadata?.type === RPCType.HTTP && request.routeOptions.url !== undefined) metadata.route = request.routeOptions.url;
    done();
  });
}

function isProbe(url: string | undefined): boolean {
  return url !== undefined && (url === '/metrics' || url.startsWith('/metrics?') || url === '/health' || url.startsWith('/health/') || url.startsWith('/health?'));
}
