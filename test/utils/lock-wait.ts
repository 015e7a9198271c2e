import type { TestApp } from './test-app';

/**
 * Until a session of the test database waits for a lock: the request under test, blocked by a transaction the test
 * holds open. A race test commits that transaction only then, so the request has provably met it.
 */
async function untilSessionWaitsForLock(t: TestApp, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const waiting = () => t.rows(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
  while ((await waiting()).length === 0) {
    if (Date.now() > deadline) throw new Error('no request came to wait for a lock');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A race, made certain: `sql` is written in a transaction of the test's own (a concurrent write under way), `request`
 * starts, and the write commits once the request waits for it. Returns the request's result.
 */
export async function whileWriteUnderWay<T>(t: TestApp, sql: string, bind: unknown[], request: () => Promise<T>): Promise<T> {
  const write = await t.sequelize.transaction();
  let committed = false;
  try {
    await t.sequelize.query(sql, { bind, transaction: write });
    const result = request();
    await untilSessionWaitsForLock(t);
    await write.commit();
    committed = true;
    return await result;
  } finally {
    if (!committed) await write.rollback();
  }
}
