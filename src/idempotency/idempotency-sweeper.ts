/**
 * Deletes expired idempotency keys every minute, a bounded number per run (SKIP LOCKED: several instances may sweep at
 * once without waiting for each other or deleting a row twice). Expired keys are already ignored by lookups; this
 * only keeps the table small.
 */
import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { IdempotencyRepository } from './idempotency.repository';

const BATCH = 1000;
const BATCHES_PER_RUN = 10;

@Injectable()
export class IdempotencySweeper {
  private readonly logger = new Logger(IdempotencySweeper.name);

  constructor(private readonly keys: IdempotencyRepository) {}

  @Interval('idempotency-key-sweep', 60_000)
  async run(): Promise<number> {
    let deleted = 0;
    try {
      for (let batch = 0; batch < BATCHES_PER_RUN; batch++) {
        const count = await this.keys.sweep(BATCH);
        deleted += count;
        if (count < BATCH) break;
      }
    } catch (error) {
      // The database may be down: the next run tries again.
      this.logger.warn(`Sweeping expired idempotency keys failed: ${String(error)}`);
    }
    return deleted;
  }
}
