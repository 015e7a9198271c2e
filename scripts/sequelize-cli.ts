/**
 * Runs sequelize-cli against DATABASE_URL, or against the embedded server (started for the
 * command, or shared with a running app) when DATABASE_URL is unset.
 * Usage: tsx scripts/sequelize-cli.ts db:migrate [cli options]
 */
import { spawn } from 'node:child_process';
import { validateEnvironment } from '../src/config/environment';
import { EMBEDDED_APP_DATABASE, type EmbeddedPostgres, startAppDatabase } from '../src/database/embedded/embedded-postgres';

async function main(): Promise<number> {
  const environment = validateEnvironment(process.env);
  let embedded: EmbeddedPostgres | undefined;
  let url = environment.DATABASE_URL;
  if (!url) {
    embedded = await startAppDatabase({ dataDir: environment.EMBEDDED_PG_DATA_DIR, port: environment.EMBEDDED_PG_PORT });
    url = embedded.url(EMBEDDED_APP_DATABASE);
  }
  try {
    const child = spawn(process.execPath, [require.resolve('sequelize-cli/lib/sequelize'), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, DATABASE_URL: url },
    });
    return await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  } finally {
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
