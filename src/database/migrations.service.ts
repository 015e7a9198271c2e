import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Sequelize as PlainSequelize } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import type { Environment } from '../config/environment';
import { migrationConnectionOptions } from './connection-options';
import { withMigrationLock } from './migration-lock';
import type * as MigratorModule from './migrator';
import { pendingMigrations } from './pending-migrations';
import { PooledSessionLimits } from './pooled-session-limits';

/**
 * Runs before the app serves: applies pending migrations when allowed (the default with the embedded server),
 * and otherwise refuses to start against a schema that is behind the code, naming what is pending.
 * umzug (about 150 modules with its CLI dependencies, which would stay loaded for the life of the process) is
 * loaded only when there is a migration to apply. Instances starting together take turns (migration-lock.ts).
 * Migrations run on a short-lived Sequelize of their own: the app's pool bounds every statement (statement_timeout,
 * lock_timeout, query_timeout, connection-options.ts), and a CREATE INDEX on a big table must not be cut by them.
 */
@Injectable()
export class MigrationsService implements OnModuleInit {
  private readonly logger = new Logger(MigrationsService.name);

  constructor(
    private readonly sequelize: Sequelize,
    private readonly config: ConfigService<Environment, true>,
    private readonly limits: PooledSessionLimits,
  ) {}

  async onModuleInit(): Promise<void> {
    // Before any migration: a refusal to start must not cut one half-way.
    await this.limits.assertServerLimits();
    const pending = await pendingMigrations(this.sequelize);
    if (pending.length === 0) return;
    if (!this.config.get('MIGRATE_ON_START', { infer: true })) {
      throw new Error(
        `The database has ${pending.length} pending migration(s): ${pending.join(', ')}. ` +
          'Apply them first (`node dist/migrate.js` in a deployment, `npm run db:migrate` in development), or start with MIGRATE_ON_START=true.',
      );
    }
    await withMigrationLock(this.schemaUrl(), () => this.applyPending(), this.logger);
    // DATABASE_MIGRATION_URL naming another database than DATABASE_URL would leave this one behind, unnoticed.
    const still = await pendingMigrations(this.sequelize);
    if (still.length > 0) {
      throw new Error(
        `Migrations were applied through DATABASE_MIGRATION_URL, yet DATABASE_URL's database still has ${still.length} pending: ` +
          'the two URLs must name the same database (one direct, one through the pooler).',
      );
    }
  }

  /** Migrations and their session lock need a direct connection, not a transaction pooler's. */
  private schemaUrl(): string {
    return this.config.get('DATABASE_MIGRATION_URL', { infer: true }) ?? this.config.getOrThrow('DATABASE_URL', { infer: true });
  }

  private async applyPending(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { applyPendingMigrations } = require('./migrator') as typeof MigratorModule;
    const unbounded = new PlainSequelize(this.schemaUrl(), {
      dialect: 'postgres',
      logging: false,
      dialectOptions: migrationConnectionOptions(this.config.get('databaseLimits', { infer: true })),
    });
    try {
      await applyPendingMigrations(unbounded, this.logger);
    } finally {
      await unbounded.close();
    }
  }
}
