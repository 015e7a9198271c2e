/**
 * Applies the sequelize-cli migrations in `migrations/` from inside Node (app start, test harness, benchmark),
 * recording them in the same `SequelizeMeta` table, so the CLI and the app always agree on what has run.
 * The app loads this module only when pending-migrations.ts finds something to apply.
 */
import type { Logger } from '@nestjs/common';
import { Sequelize as SequelizeStatic } from 'sequelize';
import type { Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import { MIGRATIONS_DIR, pendingMigrations } from './pending-migrations';

export { MIGRATIONS_DIR };

interface CliMigration {
  up(queryInterface: unknown, sequelize: typeof SequelizeStatic): Promise<unknown>;
  down?(queryInterface: unknown, sequelize: typeof SequelizeStatic): Promise<unknown>;
}

export function createMigrator(sequelize: Sequelize) {
  return new Umzug({
    migrations: {
      glob: ['*.js', { cwd: MIGRATIONS_DIR }],
      resolve: ({ name, path: file, context }) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const migration = require(file!) as CliMigration;
        return {
          name,
          up: () => migration.up(context, SequelizeStatic),
          down: async () => {
            if (!migration.down) throw new Error(`Migration ${name} cannot be undone`);
            await migration.down(context, SequelizeStatic);
          },
        };
      },
    },
    context: sequelize.getQueryInterface(),
    storage: new SequelizeStorage({ sequelize }),
    logger: undefined,
  });
}

/**
 * Applies what is pending and says what it applied. Callers hold the migration lock: the list is read here, under
 * it, because an instance that held the lock before may have applied everything.
 */
export async function applyPendingMigrations(sequelize: Sequelize, logger: Logger): Promise<string[]> {
  const pending = await pendingMigrations(sequelize);
  if (pending.length === 0) return pending;
  await createMigrator(sequelize).up();
  logger.log(`Applied ${pending.length} migration(s): ${pending.join(', ')}`);
  return pending;
}
