/**
 * Start-up migrations for several instances at once (a rolling deploy of replicas with MIGRATE_ON_START=true):
 * whoever holds this PostgreSQL advisory lock applies what is pending; the others wait for it, then find
 * nothing left to do. The lock lives on its own connection, outside Sequelize's pool, so it works whatever the
 * pool size, and PostgreSQL drops it with the session if the process dies mid-way.
 *
 * A waiting instance polls with `pg_try_advisory_lock` instead of blocking in `pg_advisory_lock`: a blocked
 * statement holds a snapshot, and `CREATE INDEX CONCURRENTLY` in the holder's migration would wait for that
 * snapshot, which waits for the holder: a deadlock. The wait is bounded and ends at SIGTERM/SIGINT, so a stuck
 * holder cannot keep a new instance from shutting down.
 *
 * sequelize-cli (`npm run db:migrate`) does not take it: run the CLI while no instance is starting.
 */
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { nextSignal } from '../common/process/next-signal';

/** One key for this service's migrations, shared by every instance (and by tests that hold it). */
export const MIGRATION_LOCK_SQL_KEY = `hashtext('nest-sequelize-service:migrations')`;

const POLL_MS = 250;
const MAX_WAIT_MS = 10 * 60_000;
const CONNECT_TIMEOUT_MS = 10_000;

export async function withMigrationLock<T>(databaseUrl: string, work: () => Promise<T>, logger: Logger): Promise<T> {
  const client = new Client({
    connectionString: databaseUrl,
    application_name: 'nest-sequelize-service:migrations',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // Without a listener a dropped session (terminated backend, network) would be an uncaught exception. The lock
  // goes with the session; the statement in progress, if any, fails and says so.
  let lost: Error | undefined;
  client.on('error', (error) => {
    lost = error;
    logger.warn(`The migration lock's connection was lost: ${error.message}`);
  });
  await client.connect();
  try {
    await acquire(client, logger);
    try {
      return await work();
    } finally {
      if (!lost) await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_SQL_KEY})`);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function acquire(client: Client, logger: Logger): Promise<void> {
  const tryLock = async () =>
    (await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${MIGRATION_LOCK_SQL_KEY}) AS locked`)).rows[0].locked;
  if (await tryLock()) return;

  logger.log('Another instance is applying migrations; waiting for it to finish');
  // Start-up logs are buffered until the app is up; an operator should see why it is not, while it waits.
  Logger.flush();
  const signal = nextSignal();
  try {
    const deadline = Date.now() + MAX_WAIT_MS;
    do {
      if (Date.now() > deadline) throw new Error(`Gave up after waiting ${MAX_WAIT_MS / 60_000} minutes for another instance's migrations`);
      const interrupted = await signal.pause(POLL_MS);
      if (interrupted) throw new Error('Start-up interrupted while waiting for another instance to finish applying migrations');
    } while (!(await tryLock()));
  } finally {
    signal.dispose();
  }
}

