import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Sequelize } from 'sequelize-typescript';
import type { Environment } from '../config/environment';
import { withMigrationLock } from './migration-lock';
import type * as MigratorModule from './migrator';
import { hasPendingMigrations } from './pending-migrations';

/**
 * Runs before the app serves: applies pending migrations when allowed (the default with the embedded server),
 * and otherwise refuses to start against a schema that is behind the code.
 * umzug (about 150 modules with its CLI dependencies, which would stay loaded for the life of the process) is
 * loaded only when the cheap check finds a migration to apply. Instances starting together take turns
 * (migration-lock.ts).
 */
/** Type only: umzug itself is loaded on demand (see above). */
type Migrator = ReturnType<typeof MigratorModule.createMigrator>;

@Injectable()
export class MigrationsService implements OnModuleInit {
  private readonly logger = new Logger(MigrationsService.name);

  constructor(
    private readonly sequelize: Sequelize,
    private readonly config: ConfigService<Environment, true>,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!(await hasPendingMigrations(this.sequelize))) return;
    if (!this.config.get('MIGRATE_ON_START', { infer: true })) {
      const pending = await this.pendingNames(this.migrator());
      if (pending.length === 0) return;
      throw new Error(
        `The database has ${pending.length} pending migration(s): ${pending.join(', ')}. ` +
          'Run `npm run db:migrate`, or start with MIGRATE_ON_START=true.',
      );
    }
    // Under the lock the list is read again: an instance that held it before us may have applied everything.
    await withMigrationLock(this.config.getOrThrow('DATABASE_URL', { infer: true }), () => this.applyPending(), this.logger);
  }

  private async applyPending(): Promise<void> {
    const migrator = this.migrator();
    const pending = await this.pendingNames(migrator);
    if (pending.length === 0) return;
    await migrator.up();
    this.logger.log(`Applied ${pending.length} migration(s): ${pending.join(', ')}`);
  }

  private async pendingNames(migrator: Migrator): Promise<string[]> {
    return (await migrator.pending()).map((migration) => migration.name);
  }

  private migrator(): Migrator {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createMigrator } = require('./migrator') as typeof MigratorModule;
    return createMigrator(this.sequelize);
  }
}
