/**
 * The database pool gauges, counted from Sequelize's public instance hooks (Sequelize declares no way to read its
 * pool). When the hooks run, in Sequelize 6.37:
 * - afterConnect / afterDisconnect bracket a pooled connection's life: the open connections.
 * - beforePoolAcquire / afterPoolAcquire bracket a wait for a connection. A failed acquire never reaches
 *   afterPoolAcquire, so a wait older than the pool's acquire timeout is dropped: it has failed by then.
 * - A connection is lent from afterPoolAcquire until released. A statement outside a transaction releases it right
 *   after its afterQuery; a transaction's is released after its `COMMIT;` or `ROLLBACK;` (a savepoint's rollback is
 *   `ROLLBACK TO SAVEPOINT …`, its commit sends nothing); a connection that disconnects is lent no more.
 *
 * Where the gauges can be off:
 * - Connections opened before the hooks were installed (the startup `authenticate()`) are counted from the first
 *   time they are lent; until then `db_pool_connections` misses them.
 * - An acquire that fails early (a refused connect rejects the oldest wait at once) counts as waiting until the
 *   acquire timeout.
 * - A transaction's connection counts as idle a few microtasks before Sequelize returns it to the pool.
 * - Which statement ends a transaction is read from the statement's text (`COMMIT;`, `ROLLBACK;`), which the hook's
 *   query object carries but Sequelize's typings do not declare.
 * Every gauge stays within [0, pool max] (twice max with read replication: a read pool and a write pool).
 */
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { Sequelize } from 'sequelize-typescript';
import { MetricsService, type PoolStats } from './metrics.service';

const HOOK_NAME = 'poolMetrics';

/** Sequelize's defaults (connection-manager.js) for what the pool options leave unset. */
const DEFAULT_POOL_MAX = 5;
const DEFAULT_ACQUIRE_MS = 60_000;

/** The statements that end a top-level transaction, exactly as Sequelize sends them. */
const ENDS_TRANSACTION = /^\s*(?:COMMIT|ROLLBACK)\s*;?\s*$/i;

export interface PoolLimits {
  /** The most connections the pool(s) can hold. */
  readonly max: number;
  readonly acquireTimeoutMs: number;
}

/** The counting, apart from Sequelize so that it can be driven by fake hook calls. Each call is a Set or Map operation. */
export class PoolUsage {
  private readonly open = new Set<object>();
  /** A subset of `open`: a lent connection is open. */
  private readonly lent = new Set<object>();
  /**
   * Acquires begun and not served, by the options object Sequelize passes to both acquire hooks (one per query or
   * transaction), with when they began. Kept in start order, so the expired are always at the head.
   */
  private readonly waiting = new Map<object, number>();

  constructor(
    private readonly limits: PoolLimits,
    private readonly now: () => number = () => performance.now(),
  ) {}

  acquireStarted(key: object): void {
    // Failed acquires leave their entries behind: drop them here too, so that memory stays bounded without scrapes.
    this.expire();
    // A retried query reuses its options object: it moves to the back, with its new start.
    this.waiting.delete(key);
    this.waiting.set(key, this.now());
  }

  acquired(connection: object, key: object): void {
    this.waiting.delete(key);
    // Also adds a connection opened before the hooks were installed.
    this.open.add(connection);
    this.lent.add(connection);
  }

  connected(connection: object): void {
    this.open.add(connection);
  }

  disconnected(connection: object): void {
    this.open.delete(connection);
    this.lent.delete(connection);
  }

  /** After each statement (afterQuery), whether it succeeded or not. */
  statementEnded(connection: object, inTransaction: boolean, sql: string | undefined): void {
    if (!inTransaction || (sql !== undefined && ENDS_TRANSACTION.test(sql))) this.lent.delete(connection);
  }

  stats(): PoolStats {
    this.expire();
    const size = Math.min(this.open.size, this.limits.max);
    const using = Math.min(this.lent.size, size);
    return { size, using, available: size - using, waiting: this.waiting.size };
  }

  private expire(): void {
    const oldest = this.now() - this.limits.acquireTimeoutMs;
    for (const [key, started] of this.waiting) {
      if (started >= oldest) return;
      this.waiting.delete(key);
    }
  }
}

@Injectable()
export class PoolMetrics implements OnApplicationBootstrap {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Not onModuleInit: this module is global, so its onModuleInit runs before DatabaseStatus adds its breaker's
   * beforePoolAcquire hook, which refuses acquires while the database is down. Added after it, our hook never sees
   * a refused acquire, which would otherwise count as waiting until the acquire timeout.
   */
  onApplicationBootstrap(): void {
    // With metrics off, no hook: statements pay nothing.
    if (!this.metrics.enabled) return;
    const { pool, replication } = this.sequelize.options;
    const usage = new PoolUsage({
      max: (pool?.max ?? DEFAULT_POOL_MAX) * (replication ? 2 : 1),
      acquireTimeoutMs: pool?.acquire ?? DEFAULT_ACQUIRE_MS,
    });
    this.sequelize.addHook('afterConnect', HOOK_NAME, (connection) => usage.connected(connection as object));
    this.sequelize.addHook('afterDisconnect', HOOK_NAME, (connection) => usage.disconnected(connection as object));
    this.sequelize.addHook('beforePoolAcquire', HOOK_NAME, (options) => usage.acquireStarted(options));
    this.sequelize.addHook('afterPoolAcquire', HOOK_NAME, (connection, options) => usage.acquired(connection, options));
    this.sequelize.addHook('afterQuery', HOOK_NAME, (options, query) => {
      // `sql` is set on the Query by run(); Sequelize's typings leave it out.
      usage.statementEnded(query.connection, Boolean(options.transaction), (query as unknown as { sql?: string }).sql);
    });
    this.metrics.observePool(() => usage.stats());
  }
}
