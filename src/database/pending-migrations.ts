/**
 * Where the migrations live, and whether any is pending, without umzug: the `*.js` files in `migrations/`
 * against the names recorded in `SequelizeMeta` (the table umzug's SequelizeStorage and sequelize-cli share).
 * The app checks this at every start and loads umzug only when there is something to apply.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { QueryTypes, type Sequelize } from 'sequelize';

export const MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'migrations');

/** PostgreSQL's undefined_table: no migration has ever been recorded in this database. */
const UNDEFINED_TABLE = '42P01';

export async function hasPendingMigrations(sequelize: Sequelize): Promise<boolean> {
  const files = readdirSync(MIGRATIONS_DIR).filter((name) => name.endsWith('.js'));
  if (files.length === 0) return false;
  let applied: Set<string>;
  try {
    const rows = await sequelize.query<{ name: string }>('SELECT name FROM "SequelizeMeta"', { type: QueryTypes.SELECT, transaction: null });
    applied = new Set(rows.map((row) => row.name));
  } catch (error) {
    if ((error as { parent?: { code?: string } }).parent?.code === UNDEFINED_TABLE) return true;
    throw error;
  }
  return files.some((name) => !applied.has(name));
}
