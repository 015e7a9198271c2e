/**
 * The database the command-line scripts (db:*, user:create-admin) work on: DATABASE_URL (for schema work,
 * DATABASE_MIGRATION_URL when set: a direct connection past a transaction pooler), or, when it is unset, the embedded
 * server, started for the command or shared with a running app, and stopped afterwards if we started it.
 */
import { validateEnvironment } from '../config/environment';
import { EMBEDDED_APP_DATABASE, startAppDatabase } from './embedded/embedded-postgres';

export async function withAppDatabase<T>(work: (url: string) => Promise<T>, options: { schema?: boolean } = {}): Promise<T> {
  const environment = validateEnvironment(process.env);
  const url = (options.schema && environment.DATABASE_MIGRATION_URL) || environment.DATABASE_URL;
  if (url) return work(url);
  const embedded = await startAppDatabase({ dataDir: environment.EMBEDDED_PG_DATA_DIR, port: environment.EMBEDDED_PG_PORT, shared: true });
  try {
    return await work(embedded.url(EMBEDDED_APP_DATABASE));
  } finally {
    await embedded.stop();
  }
}
