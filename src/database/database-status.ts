/**
 * A breaker in front of the connection pool. Without it, while PostgreSQL is down every request queues for a
 * connection until the pool's acquire time-out (DB_POOL_ACQUIRE_MS, 30 s), each one retrying the connect.
 *
 * - Up: nothing changes. A fault that questions reachability (a lost connection, a query with no answer) starts one
 *   probe; a failed connect (refused, timed out) is the answer already and turns the status down.
 * - Down: every pool acquire (any query path: models, raw queries, transactions, the health check)
 *   fails at once with DatabaseUnavailableError, a Sequelize ConnectionError, which the exception filter answers
 *   503 + Retry-After. One probe at a time, every PROBE_INTERVAL_MS, opens a fresh connection with the pool's own
 *   bounds; the first that answers turns the status up again (so does any connection the pool manages to open).
 *
 * Fed by Sequelize's public hooks (beforePoolAcquire, afterConnect) and by the exception filter (recordFault).
 * Each change is logged once: warn "database unreachable: <reason>", info "database reachable again".
 */
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Client } from 'pg';
import { ConnectionError } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { type DatabaseFault, databaseFault, questionsReachability } from '../common/database/database-faults';
import type { Environment } from '../config/environment';
import { pgConnectionOptions } from './connection-options';

const PROBE_INTERVAL_MS = 500;
const HOOK_NAME = 'databaseStatus';

/** What a request gets, without touching the pool, while the database is known to be unreachable. */
export class DatabaseUnavailableError extends ConnectionError {
  constructor(reason: string) {
    super(new Error(`database unreachable: ${reason}`));
    this.name = 'DatabaseUnavailableError';
  }
}

@Injectable()
export class DatabaseStatus implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private down?: { since: number; reason: string; reqId?: string };
  /** When the status last turned up: a connect that failed shortly after may have started before it. */
  private upSince = 0;
  private probing?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly sequelize: Sequelize,
    private readonly config: ConfigService<Environment, true>,
  ) {}

  onModuleInit(): void {
    this.sequelize.addHook('beforePoolAcquire', HOOK_NAME, () => {
      if (this.down) throw new DatabaseUnavailableError(this.down.reason);
    });
    // A connection the pool opened is proof enough (and the pool opens none while down: acquires fail first).
    this.sequelize.addHook('afterConnect', HOOK_NAME, () => this.markUp());
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  get reachable(): boolean {
    return this.down === undefined;
  }

  /**
   * Called by the exception filter with every error a request ended in. Returns the fault when the error is a
   * database fault (undefined otherwise) and whether it is the first of its episode: the one to log.
   */
  recordFault(error: unknown, reqId?: string): { fault?: DatabaseFault; log: boolean } {
    const fault = databaseFault(error);
    if (!fault) return { log: false };
    // The breaker's own refusals were announced once, when it opened.
    if (error instanceof DatabaseUnavailableError) return { fault, log: false };
    if (fault.kind === 'unreachable') {
      // A failed connect is proof enough, unless the database came back since it may have begun: then a probe decides,
      // so a stale failure does not take the service down again right after it recovered.
      const connectTimeoutMs = this.config.get('DB_CONNECT_TIMEOUT_MS', { infer: true });
      if (Date.now() - this.upSince > connectTimeoutMs) this.markDown(fault.reason, reqId);
      else void this.probe(reqId);
      return { fault, log: false };
    }
    if (this.down) return { fault, log: false };
    if (questionsReachability(fault)) void this.probe(reqId);
    return { fault, log: this.episodes.first(fault.kind) };
  }

  private readonly episodes = new EpisodeLog();

  private markDown(reason: string, reqId?: string): void {
    if (this.down || this.stopped) return;
    this.down = { since: Date.now(), reason, reqId };
    this.logger.warn({ msg: `database unreachable: ${reason}`, reqId });
    this.scheduleProbe();
  }

  private markUp(): void {
    if (!this.down) return;
    const { since, reqId } = this.down;
    this.down = undefined;
    this.upSince = Date.now();
    clearTimeout(this.timer);
    this.logger.log({ msg: 'database reachable again', reqId, downForMs: Date.now() - since });
  }

  private scheduleProbe(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.probe().finally(() => {
        if (this.down) this.scheduleProbe();
      });
    }, PROBE_INTERVAL_MS);
    this.timer.unref();
  }

  /** One connection attempt (and one round trip) at a time, with the pool's own bounds; its answer sets the status. */
  private probe(reqId?: string): Promise<void> {
    this.probing ??= (async () => {
      const client = new Client({ connectionString: this.config.getOrThrow('DATABASE_URL', { infer: true }),
        ...pgConnectionOptions(this.config.get('databaseLimits', { infer: true })),
      });
      // A connection that fails later must not throw from an emitter with no listener.
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        this.markUp();
      } catch (error) {
        this.markDown(error instanceof Error ? error.message || error.name : String(error), reqId);
      } finally {
        await client.end().catch(() => undefined);
        this.probing = undefined;
      }
    })();
    return this.probing;
  }

}

/**
 * Faults that do not take the database away (a lock timeout, a cancelled statement, a deadlock) come in bursts: one
 * held lock times out every request that waits for it. The first of a kind is logged; the same kind again within
 * QUIET_MS of it is not (the request log line still records each 503).
 */
const QUIET_MS = 10_000;

class EpisodeLog {
  private readonly last = new Map<string, number>();

  first(kind: string): boolean {
    const now = Date.now();
    const previous = this.last.get(kind);
    if (previous !== undefined && now - previous < QUIET_MS) return false;
    this.last.set(kind, now);
    return true;
  }
}
