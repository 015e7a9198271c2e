/**
 * Start-up migrations for several instances at once (a rolling deploy of replicas with MIGRATE_ON_START=true):
 * whoever holds this PostgreSQL advisory lock applies what is pending; the others wait for it, then find
 * nothing left to do. The lock lives on its own connection, outside Sequelize's pool, so it works whatever the
 * pool size, and PostgreSQL drops it with the session if the process dies mid-way.
 *
 * sequelize-cli (`npm run db:migrate`) does not take it: run the CLI while no instance is starting.
 */
import { Logger } from '@nestjs/common';
import { Client } from 'pg';

/** One key for this service's migrations, shared by every instance (and by tests that hold it). */
export const MIGRATION_LOCK_SQL_KEY = `hashtext('nest-sequelize-service:migrations')`;

export async function withMigrationLock<T>(databaseUrl: string, work: () => Promise<T>, logger: Logger): Promise<T> {
  const client = new Client({ connectionString: databaseUrl, application_name: 'nest-sequelize-service:migrations' });
  await client.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${MIGRATION_LOCK_SQL_KEY}) AS locked`);
    if (!rows[0].locked) {
      logger.log('Another instance is applying migrations; waiting for it to finish');
      // Start-up logs are buffered until the app is up; an operator should see why it is not, while it waits.
      Logger.flush();
      await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_SQL_KEY})`);
    }
    try {
      return await work();
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_SQL_KEY})`);
    }
  } finally {
    await client.end();
  }
}
