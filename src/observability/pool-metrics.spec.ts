import type { ConfigService } from '@nestjs/config';
import type { Sequelize } from 'sequelize-typescript';
import type { Environment } from '../config/environment';
import { MetricsService } from './metrics.service';
import { PoolMetrics, PoolUsage } from './pool-metrics';

const ACQUIRE_MS = 1000;

/** A PoolUsage on a clock the test moves. */
function usage(max = 4) {
  const clock = { now: 0 };
  return { pool: new PoolUsage({ max, acquireTimeoutMs: ACQUIRE_MS }, () => clock.now), clock };
}

const connection = (name: string) => ({ name });

describe('PoolUsage', () => {
  it('lends a connection from its acquire to the end of the statement outside a transaction', () => {
    const { pool } = usage();
    const c1 = connection('c1');
    const options = {};
    pool.acquireStarted(options);
    expect(pool.stats()).toEqual({ size: 0, using: 0, available: 0, waiting: 1 });
    pool.connected(c1);
    expect(pool.stats()).toEqual({ size: 1, using: 0, available: 1, waiting: 1 });
    pool.acquired(c1, options);
    expect(pool.stats()).toEqual({ size: 1, using: 1, available: 0, waiting: 0 });
    pool.statementEnded(c1, false, 'SELECT 1');
    expect(pool.stats()).toEqual({ size: 1, using: 0, available: 1, waiting: 0 });
    // Reused from the pool: no connect this time.
    const again = {};
    pool.acquireStarted(again);
    pool.acquired(c1, again);
    expect(pool.stats()).toEqual({ size: 1, using: 1, available: 0, waiting: 0 });
    // A failed statement ends too (afterQuery runs in a finally).
    pool.statementEnded(c1, false, undefined);
    expect(pool.stats()).toEqual({ size: 1, using: 0, available: 1, waiting: 0 });
  });

  it('keeps a transaction\'s connection lent through its statements and savepoints, until its COMMIT', () => {
    const { pool } = usage();
    const [tx, other] = [connection('tx'), connection('other')];
    pool.connected(tx);
    pool.connected(other);
    // Sequelize passes the same options object to both acquire hooks.
    const begin = { uuid: 't1' };
    pool.acquireStarted(begin);
    pool.acquired(tx, begin);
    for (const sql of ['START TRANSACTION;', 'INSERT INTO posts (title) VALUES ($1)', 'SAVEPOINT "t1-sp-1";', 'ROLLBACK TO SAVEPOINT "t1-sp-1";', 'SELECT 1']) {
      pool.statementEnded(tx, true, sql);
      expect([sql, pool.stats().using]).toEqual([sql, 1]);
    }
    // A statement outside the transaction, meanwhile, on the other connection.
    const query = {};
    pool.acquireStarted(query);
    pool.acquired(other, query);
    expect(pool.stats()).toEqual({ size: 2, using: 2, available: 0, waiting: 0 });
    pool.statementEnded(other, false, 'SELECT 2');
    expect(pool.stats()).toEqual({ size: 2, using: 1, available: 1, waiting: 0 });
    pool.statementEnded(tx, true, 'COMMIT;');
    expect(pool.stats()).toEqual({ size: 2, using: 0, available: 2, waiting: 0 });
  });

  it('releases a transaction\'s connection at its ROLLBACK, and a transaction that failed to commit when it disconnects', () => {
    const { pool } = usage();
    const [a, b] = [connection('a'), connection('b')];
    pool.acquired(a, { uuid: 'ta' });
    pool.acquired(b, { uuid: 'tb' });
    pool.statementEnded(a, true, 'ROLLBACK;');
    expect(pool.stats()).toEqual({ size: 2, using: 1, available: 1, waiting: 0 });
    // A COMMIT that never ran (sql unset): Sequelize destroys the connection.
    pool.statementEnded(b, true, undefined);
    expect(pool.stats().using).toBe(1);
    pool.disconnected(b);
    expect(pool.stats()).toEqual({ size: 1, using: 0, available: 1, waiting: 0 });
  });

  it('counts a wait until the acquire timeout, then drops it as failed', () => {
    const { pool, clock } = usage();
    const failed = {};
    pool.acquireStarted(failed);
    clock.now = 400;
    const served = {};
    pool.acquireStarted(served);
    expect(pool.stats().waiting).toBe(2);
    clock.now = ACQUIRE_MS;
    expect(pool.stats().waiting).toBe(2);
    clock.now = ACQUIRE_MS + 1;
    expect(pool.stats().waiting).toBe(1);
    pool.acquired(connection('c'), served);
    expect(pool.stats().waiting).toBe(0);
    // A late success of a dropped wait changes nothing.
    pool.acquired(connection('late'), failed);
    expect(pool.stats()).toEqual({ size: 2, using: 2, available: 0, waiting: 0 });
  });

  it('counts a retried acquire once, timed from its latest start', () => {
    const { pool, clock } = usage();
    const retried = {};
    pool.acquireStarted(retried);
    const other = {};
    clock.now = 500;
    pool.acquireStarted(other);
    clock.now = 900;
    pool.acquireStarted(retried);
    expect(pool.stats().waiting).toBe(2);
    // The first start of `retried` is past the timeout, its latest is not: behind `other` now.
    clock.now = 1600;
    expect(pool.stats().waiting).toBe(1);
    clock.now = 1901;
    expect(pool.stats().waiting).toBe(0);
  });

  it('forgets failed waits without a scrape, on the next acquire', () => {
    const { pool, clock } = usage();
    for (let i = 0; i < 1000; i++) pool.acquireStarted({});
    clock.now = ACQUIRE_MS + 1;
    pool.acquireStarted({});
    expect(pool.stats().waiting).toBe(1);
  });

  it('stops lending a connection that disconnects, and ignores one it never saw', () => {
    const { pool } = usage();
    const [lent, idle] = [connection('lent'), connection('idle')];
    pool.connected(lent);
    pool.connected(idle);
    pool.acquired(lent, {});
    pool.disconnected(lent);
    expect(pool.stats()).toEqual({ size: 1, using: 0, available: 1, waiting: 0 });
    // Its statement's end, after the connection died, changes nothing.
    pool.statementEnded(lent, false, 'SELECT 1');
    pool.disconnected(connection('opened before the hooks'));
    pool.disconnected(idle);
    pool.disconnected(idle);
    expect(pool.stats()).toEqual({ size: 0, using: 0, available: 0, waiting: 0 });
  });

  it('counts a connection opened before the hooks from its first lending', () => {
    const { pool } = usage();
    const early = connection('early');
    pool.acquired(early, {});
    expect(pool.stats()).toEqual({ size: 1, using: 1, available: 0, waiting: 0 });
    pool.statementEnded(early, false, 'SELECT 1');
    expect(pool.stats()).toEqual({ size: 1, using: 0, available: 1, waiting: 0 });
  });

  it('never reports more connections than the pool can hold', () => {
    const { pool } = usage(2);
    const connections = ['a', 'b', 'c'].map(connection);
    for (const each of connections) pool.acquired(each, {});
    expect(pool.stats()).toEqual({ size: 2, using: 2, available: 0, waiting: 0 });
    pool.statementEnded(connections[0], false, 'SELECT 1');
    expect(pool.stats()).toEqual({ size: 2, using: 2, available: 0, waiting: 0 });
    pool.disconnected(connections[1]);
    expect(pool.stats()).toEqual({ size: 2, using: 1, available: 1, waiting: 0 });
  });
});

describe('PoolMetrics', () => {
  type Hook = (...args: unknown[]) => void;

  /** The Sequelize surface PoolMetrics uses: its options and addHook; `run` calls the hooks it added. */
  function fakeSequelize(options: object) {
    const hooks = new Map<string, Hook>();
    const sequelize = {
      options,
      addHook: (type: string, name: string, fn: Hook) => {
        expect(name).toBe('poolMetrics');
        hooks.set(type, fn);
      },
    };
    return { sequelize: sequelize as unknown as Sequelize, hooks, run: (type: string, ...args: unknown[]) => hooks.get(type)?.(...args) };
  }

  const metrics = (enabled: boolean) => new MetricsService({ get: () => enabled } as unknown as ConfigService<Environment, true>);

  async function gauges(service: MetricsService): Promise<Record<string, number>> {
    const text = (await service.render())!;
    const names = ['db_pool_connections', 'db_pool_connections_idle', 'db_pool_connections_in_use', 'db_pool_waiting'];
    return Object.fromEntries(names.map((name) => [name, Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])]));
  }

  it('feeds the gauges from Sequelize\'s hooks, the pool\'s max bounding them', async () => {
    const { sequelize, run } = fakeSequelize({ pool: { max: 2, acquire: 5000 } });
    const service = metrics(true);
    new PoolMetrics(sequelize, service).onApplicationBootstrap();
    const [c1, c2, c3] = ['c1', 'c2', 'c3'].map(connection);
    const [query, transaction, waiter] = [{}, { uuid: 't' }, {}];
    run('beforePoolAcquire', query);
    run('afterConnect', c1, {});
    run('afterPoolAcquire', c1, query);
    run('beforePoolAcquire', transaction);
    run('afterConnect', c2, {});
    run('afterPoolAcquire', c2, transaction);
    run('afterQuery', { transaction: {} }, { connection: c2, sql: 'START TRANSACTION;' });
    run('beforePoolAcquire', waiter);
    expect(await gauges(service)).toEqual({ db_pool_connections: 2, db_pool_connections_idle: 0, db_pool_connections_in_use: 2, db_pool_waiting: 1 });
    run('afterQuery', {}, { connection: c1, sql: 'SELECT 1' });
    run('afterPoolAcquire', c1, waiter);
    // One connection too many (never from a pool of 2; say one opened outside it): still 2.
    run('afterConnect', c3, {});
    expect(await gauges(service)).toEqual({ db_pool_connections: 2, db_pool_connections_idle: 0, db_pool_connections_in_use: 2, db_pool_waiting: 0 });
    run('afterQuery', { transaction: {} }, { connection: c2, sql: 'COMMIT;' });
    run('afterDisconnect', c3);
    expect(await gauges(service)).toEqual({ db_pool_connections: 2, db_pool_connections_idle: 1, db_pool_connections_in_use: 1, db_pool_waiting: 0 });
  });

  it('adds no hook and no gauge with metrics off', () => {
    const { sequelize, hooks } = fakeSequelize({ pool: { max: 2 } });
    const service = metrics(false);
    const observePool = jest.spyOn(service, 'observePool');
    new PoolMetrics(sequelize, service).onApplicationBootstrap();
    expect(hooks.size).toBe(0);
    expect(observePool).not.toHaveBeenCalled();
  });
});
