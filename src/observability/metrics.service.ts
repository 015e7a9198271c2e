/**
 * The service's Prometheus metrics, in a registry of its own (never prom-client's global one, which libraries may
 * fill): HTTP requests by route template, requests in flight, the database pool, SQL statements by kind, database
 * errors by class, and prom-client's process metrics (event-loop lag, memory, GC). With metrics off (production
 * without METRICS_TOKEN) nothing is created: every method here returns at once.
 */
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Environment } from '../config/environment';

/** The statement kinds of db_query_duration_seconds; anything else is OTHER, so the label stays bounded. */
export const QUERY_KINDS = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'BEGIN', 'COMMIT', 'ROLLBACK', 'OTHER'] as const;
export type QueryKind = (typeof QUERY_KINDS)[number];

/** The route label of a request no route matched (404s, scans): one series, whatever the path. */
export const UNMATCHED_ROUTE = 'unmatched';

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const QUERY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The pool's numbers, as PoolMetrics counts them from Sequelize's hooks. */
export interface PoolStats {
  readonly size: number;
  readonly available: number;
  readonly using: number;
  readonly waiting: number;
}

interface Instruments {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly inFlight: Gauge;
  readonly queryDuration: Histogram<'kind'>;
  readonly dbErrors: Counter<'class'>;
}

@Injectable()
export class MetricsService {
  private readonly instruments?: Instruments;

  constructor(config: ConfigService<Environment, true>) {
    if (config.get('metricsEnabled', { infer: true })) this.instruments = createInstruments();
  }

  get enabled(): boolean {
    return this.instruments !== undefined;
  }

  get contentType(): string {
    return this.instruments?.registry.contentType ?? Registry.PROMETHEUS_CONTENT_TYPE;
  }

  /** The text exposition, or undefined when metrics are off. */
  async render(): Promise<string | undefined> {
    return this.instruments?.registry.metrics();
  }

  requestStarted(): void {
    this.instruments?.inFlight.inc();
  }

  requestEnded(): void {
    this.instruments?.inFlight.dec();
  }

  /** `route` is the route's template (`/api/v1/users/:id`), undefined when no route matched. */
  requestCompleted(method: string, route: string | undefined, statusCode: number, seconds: number): void {
    this.instruments?.httpDuration.observe({ method, route: route ?? UNMATCHED_ROUTE, status_code: statusCode }, seconds);
  }

  queryCompleted(kind: QueryKind, seconds: number): void {
    this.instruments?.queryDuration.observe({ kind }, seconds);
  }

  /**
   * Counts a database error by class: `kind` when the caller has classified the fault (a timeout, a lost connection,
   * which Sequelize reports as a bare DatabaseError), else the error's constructor name (`ConnectionRefusedError`,
   * `UniqueConstraintError`, …). Both are fixed by the code, never taken from a message: the label stays bounded.
   */
  databaseError(error: unknown, kind?: string): void {
    if (!this.instruments) return;
    const name = kind ?? (typeof error === 'object' && error !== null ? error.constructor?.name : undefined);
    this.instruments.dbErrors.inc({ class: name && /^[\w-]{1,64}$/.test(name) ? name : 'Unknown' });
  }

  /** The pool gauges; `read` is called at scrape time only. */
  observePool(read: () => PoolStats | undefined): void {
    if (!this.instruments) return;
    const gauge = (name: string, help: string, pick: (stats: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.instruments!.registry],
        collect() {
          const stats = read();
          if (stats) this.set(pick(stats));
        },
      });
    gauge('db_pool_connections', 'Connections open in the database pool (idle and in use)', (stats) => stats.size);
    gauge('db_pool_connections_idle', 'Open pool connections not lent to a query', (stats) => stats.available);
    gauge('db_pool_connections_in_use', 'Pool connections lent to a query or transaction', (stats) => stats.using);
    gauge('db_pool_waiting', 'Requests waiting for a pool connection', (stats) => stats.waiting);
  }
}

function createInstruments(): Instruments {
  const registry = new Registry();
  // Event-loop lag (nodejs_eventloop_lag_*), heap and RSS (process_resident_memory_bytes, nodejs_heap_*), GC, handles.
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_BUCKETS,
      registers: [registry],
    }),
    inFlight: new Gauge({ name: 'http_requests_in_flight', help: 'HTTP requests being served', registers: [registry] }),
    queryDuration: new Histogram({
      name: 'db_query_duration_seconds',
      help: 'SQL statements that completed, by kind',
      labelNames: ['kind'],
      buckets: QUERY_BUCKETS,
      registers: [registry],
    }),
    dbErrors: new Counter({ name: 'db_errors_total', help: 'Database errors by class', labelNames: ['class'], registers: [registry] }),
  };
}
