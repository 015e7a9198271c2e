/**
 * Behind a transaction pooler (DATABASE_POOLER=transaction) the app cannot set its statement, lock and idle-transaction
 * limits per connection: PgBouncer hands each transaction whichever server connection is free, and refuses or drops
 * startup parameters. The limits are then the server's settings for the app's role (ALTER ROLE … SET), and this check
 * refuses to start when they are not the configured ones, rather than serve with unbounded statements.
 */
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { QueryTypes } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import type { Environment } from '../config/environment';
import { SERVER_LIMIT_VARIABLES, serverLimits, type ServerLimits } from './connection-options';

@Injectable()
export class PooledSessionLimits {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly config: ConfigService<Environment, true>,
  ) {}

  /** Called by MigrationsService before anything else touches the schema. */
  async assertServerLimits(): Promise<void> {
    const limits = this.config.get('databaseLimits', { infer: true });
    if (!limits.pooled) return;
    const expected = serverLimits(limits);
    const rows = await this.sequelize.query<{ name: keyof ServerLimits; setting: string; role: string; database: string }>(
      'SELECT name, setting, current_user AS role, current_database() AS database FROM pg_settings WHERE name = ANY($1)',
      { bind: [Object.keys(expected)], type: QueryTypes.SELECT, useMaster: true },
    );
    const wrong = rows.filter((row) => Number(row.setting) !== expected[row.name]);
    if (wrong.length === 0) return;
    const { role, database } = rows[0];
    const found = wrong.map((row) => `${row.name} is ${row.setting} ms where ${SERVER_LIMIT_VARIABLES[row.name]} is ${expected[row.name]}`).join('; ');
    const fix = Object.entries(expected)
      .map(([name, ms]) => `ALTER ROLE "${role}" IN DATABASE "${database}" SET ${name} = ${ms};`)
      .join(' ');
    throw new Error(
      `DATABASE_POOLER=transaction: the server's limits for this role are not the configured ones (${found}). ` +
        `A transaction pooler cannot pass them per connection, so they must be the role's settings: ${fix} ` +
        '(then reconnect the pooler\'s server connections, e.g. RECONNECT on PgBouncer\'s console). See docs/scaling.md.',
    );
  }
}
