/**
 * The database the command-line scripts (db:*, user:create-admin) work on: DATABASE_URL, or, when it is unset, the
 * embedded server, started for the command or shared with a running app, and stopped afterwards if we started it.
 */
import { validateEnvironment } from '../config/environment';
import { EMBEDDED_APP_DATABASE, startAppDatabase } from './embedded/embedded-postgres';

export async function withAppDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const environment = validateEnvironment(process.env);
  if (environment.DATABASE_URL) return work(environment.DATABASE_URL);
  const embedded = await startAppDatabase({ dataDir: environment.EMBEDDED_PG_DATA_DIR, port: environment.EMBEDDED_PG_PORT, shared: true });
  try {
    return await work(embedded.url(EMBEDDED_APP_DATABASE));
  } finally {
    await embedded.stop();
  }
}
