/**
 * Where the migrations live, and whether any is pending, without umzug: the `*.js` files in `migrations/`
 * against the names recorded in `SequelizeMeta` (the table umzug's SequelizeStorage and sequelize-cli share).
 * The app checks this at every start (and again under the migration lock) and loads umzug only to apply.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { QueryTypes, type Sequelize } from 'sequelize';

export const MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'migrations');

/** PostgreSQL's undefined_table: no migration has ever been recorded in this database. */
const UNDEFINED_TABLE = '42P01';

/** Names of the migration files not recorded in `SequelizeMeta`, in the order they apply (umzug's and the CLI's). */
export async function pendingMigrations(sequelize: Sequelize): Promise<string[]> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((name) => name.endsWith('.js'))
    .sort();
  if (files.length === 0) return [];
  let applied: Set<string>;
  try {
    const rows = await sequelize.query<{ name: string }>('SELECT name FROM "SequelizeMeta"', { type: QueryTypes.SELECT, transaction: null, useMaster: true });
    applied = new Set(rows.map((row) => row.name));
  } catch (error) {
    if ((error as { parent?: { code?: string } }).parent?.code === UNDEFINED_TABLE) return files;
    throw error;
  }
  return files.filter((name) => !applied.has(name));
}

export async function hasPendingMigrations(sequelize: Sequelize): Promise<boolean> {
  return (await pendingMigrations(sequelize)).length > 0;
}
