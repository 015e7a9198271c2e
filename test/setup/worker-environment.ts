// Runs in each worker before every e2e test file: point the app at this worker's own database.
import { databaseUrl, harnessState, workerDatabaseName } from './test-databases';

const { adminUrl, appUrl, prefix } = harnessState();
const database = workerDatabaseName(prefix, process.env.JEST_WORKER_ID ?? '1');
process.env.DATABASE_URL = databaseUrl(appUrl, database);
// Set only when the app goes through a pooler: schema work (migrations, their lock) then takes the direct connection.
if (appUrl !== adminUrl) {
  process.env.DATABASE_MIGRATION_URL = databaseUrl(adminUrl, database);
  process.env.DATABASE_POOLER = 'transaction';
} else {
  delete process.env.DATABASE_MIGRATION_URL;
  delete process.env.DATABASE_POOLER;
}
process.env.NODE_ENV = 'test';
process.env.LOG_LEVEL ??= 'silent';
process.env.DB_LOG_SQL = 'false';
process.env.MIGRATE_ON_START = 'false';
process.env.DB_POOL_MIN = '0';
// Rate limits are tested where they are the subject (test/rate-limit.e2e-spec.ts), off everywhere else.
process.env.RATE_LIMIT = 'off';
