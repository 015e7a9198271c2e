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
import type { DatabaseLimits, Environment } from '../config/environment';

/** Each server setting and the configured limit it must equal (milliseconds, as pg_settings reports them). */
export function expectedServerSettings(limits: DatabaseLimits): Record<string, number> {
  return {
    statement_timeout: limits.statementTimeoutMs,
    lock_timeout: limits.lockTimeoutMs,
    idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs,
  };
}

const VARIABLES: Record<string, string> = {
  statement_timeout: 'DB_STATEMENT_TIMEOUT_MS',
  lock_timeout: 'DB_LOCK_TIMEOUT_MS',
  idle_in_transaction_session_timeout: 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS',
};

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
    const expected = expectedServerSettings(limits);
    const rows = await this.sequelize.query<{ name: string; setting: string; role: string; database: string }>(
      'SELECT name, setting, current_user AS role, current_database() AS database FROM pg_settings WHERE name = ANY($1)',
      { bind: [Object.keys(expected)], type: QueryTypes.SELECT, useMaster: true },
    );
    const wrong = rows.filter((row) => Number(row.setting) !== expected[row.name]);
    if (wrong.length === 0) return;
    const { role, database } = rows[0];
    const found = wrong.map((row) => `${row.name} is ${row.setting} ms where ${VARIABLES[row.name]} is ${expected[row.name]}`).join('; ');
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
