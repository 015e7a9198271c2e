/**
 * The deploy step: `node dist/migrate.js` applies the pending migrations to DATABASE_MIGRATION_URL (a direct connection,
 * when DATABASE_URL goes through a transaction pooler) or DATABASE_URL, and exits (0: the schema is current). It is the app's own migrator (umzug over `migrations/`, recorded in `SequelizeMeta` as sequelize-cli
 * records them) under the advisory lock that instances starting with MIGRATE_ON_START=true take, so it may run while
 * instances start. A production install has neither sequelize-cli nor tsx: this needs only the built app.
 */
import { existsSync } from 'node:fs';
import { Logger, type LoggerService } from '@nestjs/common';
import pino from 'pino';
import { Sequelize } from 'sequelize';
import { UNBOUNDED_SESSION_OPTIONS } from './database/connection-options';
import { withMigrationLock } from './database/migration-lock';
import { applyPendingMigrations } from './database/migrator';

async function migrate(databaseUrl: string, logger: Logger): Promise<void> {
  const sequelize = new Sequelize(databaseUrl, { dialect: 'postgres', logging: false, dialectOptions: { options: UNBOUNDED_SESSION_OPTIONS } });
  try {
    await withMigrationLock(
      databaseUrl,
      async () => {
        const applied = await applyPendingMigrations(sequelize, logger);
        if (applied.length === 0) logger.log('No pending migrations: the schema is current');
      },
      logger,
    );
  } finally {
    await sequelize.close();
  }
}

function main(): void {
  if (existsSync('.env')) process.loadEnvFile('.env');
  // Only what this step needs: a deploy job need not hold the app's secrets (JWT_SECRET) to migrate.
  const { DATABASE_MIGRATION_URL: migrationUrl, DATABASE_URL: appUrl, NODE_ENV: nodeEnv } = process.env;
  const databaseUrl = migrationUrl ?? appUrl;
  // JSON lines of the app's shape (pino) in production, Nest's readable lines otherwise.
  if (nodeEnv === 'production') Logger.overrideLogger(jsonLogger());
  const logger = new Logger('Migrations');
  if (!databaseUrl) {
    logger.error('DATABASE_URL (or DATABASE_MIGRATION_URL) is required: migrations are applied to the database the instances will use');
    process.exitCode = 1;
    return;
  }
  migrate(databaseUrl, logger).catch((error: unknown) => {
    logger.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}

/** Nest's logger API over pino, writing what nestjs-pino writes for the app: level, time, context, msg. */
function jsonLogger(): LoggerService {
  const log = pino();
  return {
    log: (message: unknown, context?: string) => log.info({ context }, String(message)),
    warn: (message: unknown, context?: string) => log.warn({ context }, String(message)),
    error: (message: unknown, context?: string) => log.error({ context }, String(message)),
  };
}

main();
