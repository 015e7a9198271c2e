/**
 * Readiness indicator: no migration pending. The answer "none pending" is kept once seen: the migration files change
 * only with a deploy (a new process), so after that each probe costs nothing.
 */
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Sequelize } from 'sequelize-typescript';
import { pendingMigrations } from '../database/pending-migrations';

@Injectable()
export class MigrationsHealthIndicator {
  private current = false;
  /** The read in progress: probes that arrive meanwhile share it rather than each holding a connection. */
  private reading?: Promise<string[]>;

  constructor(
    private readonly sequelize: Sequelize,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check<const Key extends string>(key: Key, timeoutMs: number) {
    return this.indicators
      .check(key)
      .attempt(async () => {
        if (this.current) return;
        this.reading ??= pendingMigrations(this.sequelize).finally(() => (this.reading = undefined));
        const pending = await this.reading;
        // This wording is what the controller reads as "pending" (anything else: could not tell).
        if (pending.length > 0) throw new Error(`${pending.length} pending`);
        this.current = true;
      })
      .withTimeout(timeoutMs);
  }
}
