/**
 * Runs sequelize-cli against DATABASE_MIGRATION_URL or DATABASE_URL, or against the embedded server (started for the
 * command, or shared with a running app) when DATABASE_URL is unset.
 * Usage: tsx scripts/sequelize-cli.ts db:migrate [cli options]
 */
import { spawn } from 'node:child_process';
import { withAppDatabase } from '../src/database/app-database';

function main(): Promise<number> {
  return withAppDatabase(async (url) => {
    const child = spawn(process.execPath, [require.resolve('sequelize-cli/lib/sequelize'), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, DATABASE_URL: url },
    });
    return new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  }, { schema: true });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
