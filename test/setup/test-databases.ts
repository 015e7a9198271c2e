/**
 * Names and guards for the databases the e2e harness creates. Every database it makes carries a
 * marker comment, and nothing here drops or truncates a database without that marker.
 */
import { Client } from 'pg';
import type { DatabaseLimits } from '../../src/config/environment';
import { serverLimits } from '../../src/database/connection-options';

export const HARNESS_MARKER = 'created by the nest-sequelize-service e2e harness';

export interface HarnessState {
  /** A direct connection: creating, cloning and dropping databases, migrations. */
  adminUrl: string;
  /** Where the app connects (the same server, or a transaction pooler in front of it). */
  appUrl: string;
  prefix: string;
}

export function harnessState(): HarnessState {
  const adminUrl = process.env.TEST_ADMIN_DATABASE_URL;
  const appUrl = process.env.TEST_APP_DATABASE_URL;
  const prefix = process.env.TEST_DATABASE_PREFIX;
  if (!adminUrl || !appUrl || !prefix) throw new Error('The e2e harness is not set up: run the tests through `npm test` / jest');
  return { adminUrl, appUrl, prefix };
}

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

export async function withAdmin<T>(adminUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates a marked database, empty or cloned from a template. */
export async function createMarkedDatabase(client: Client, name: string, template?: string): Promise<void> {
  const from = template ? ` TEMPLATE ${client.escapeIdentifier(template)}` : ' TEMPLATE template0';
  await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}${from}`);
  await client.query(`COMMENT ON DATABASE ${client.escapeIdentifier(name)} IS '${HARNESS_MARKER}'`);
}

export async function isMarked(client: Client, name: string): Promise<boolean> {
  const result = await client.query<{ comment: string | null }>(
    "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
    [name],
  );
  return result.rows[0]?.comment === HARNESS_MARKER;
}

/** Drops the run's databases, and only those that carry the marker. */
export async function dropMarkedDatabases(client: Client, prefix: string): Promise<void> {
  const result = await client.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND shobj_description(oid, 'pg_database') = $2",
    [prefix, HARNESS_MARKER],
  );
  for (const { datname } of result.rows) {
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`);
  }
}

export function workerDatabaseName(prefix: string, workerId: string): string {
  return `${prefix}w${workerId}`;
}

export function templateDatabaseName(prefix: string): string {
  return `${prefix}template`;
}

/** An empty marked database for one test (dropped with the run's others at teardown). */
export async function createScratchDatabase(label: string): Promise<string> {
  const { adminUrl, prefix } = harnessState();
  const name = `${prefix}${label}_${Math.random().toString(36).slice(2, 8)}`;
  await withAdmin(adminUrl, (client) => createMarkedDatabase(client, name));
  return databaseUrl(adminUrl, name);
}

/** The app's statement, lock and idle-transaction limits as the database's own settings (for a pooled app). */
export async function setServerLimits(client: Client, database: string, limits: DatabaseLimits): Promise<void> {
  for (const [name, ms] of Object.entries(serverLimits(limits))) {
    await client.query(`ALTER DATABASE ${client.escapeIdentifier(database)} SET ${name} = ${ms}`);
  }
}
