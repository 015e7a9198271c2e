/**
 * The `idempotency_keys` table: the only code that touches it. A key is claimed for the request's transaction (an
 * advisory lock, released when it ends), looked up, and its answer saved in the same transaction as the write.
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import { QueryTypes } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { Repository } from '../common/database/repository';
import { IdempotencyKey, type IdempotencyKeyAttributes } from './models/idempotency-key.model';

export type StoredAnswer = Pick<IdempotencyKeyAttributes, 'route' | 'fingerprint' | 'status' | 'body'>;

// Transaction-scoped: released by the COMMIT or ROLLBACK of the request that took it, so it survives a transaction
// pooler (no session state). Two keys of one caller whose hashes collide only make one of them wait its turn (409).
const CLAIM_SQL = 'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS claimed';
const FIND_LIVE_SQL = 'SELECT route, fingerprint, status, body FROM idempotency_keys WHERE "actorId" = $1 AND key = $2 AND "expiresAt" > now()';
// SKIP LOCKED: instances sweeping at the same time take different rows instead of waiting for each other.
const SWEEP_SQL = `
  DELETE FROM idempotency_keys WHERE ("actorId", key) IN (
    SELECT "actorId", key FROM idempotency_keys WHERE "expiresAt" <= now() ORDER BY "expiresAt" LIMIT $1 FOR UPDATE SKIP LOCKED
  )`;

@Injectable()
export class IdempotencyRepository extends Repository {
  constructor(
    @InjectModel(IdempotencyKey) private readonly keys: typeof IdempotencyKey,
    sequelize: Sequelize,
  ) {
    super(sequelize);
  }

  /** Takes the caller's key until the request's transaction ends; false when another request holds it. */
  async claim(actorId: number, key: string): Promise<boolean> {
    return (await this.selectOne<{ claimed: boolean }>(CLAIM_SQL, [actorId, key]))?.claimed === true;
  }

  /** The answer stored for the caller's key, unless it has expired. */
  async findLive(actorId: number, key: string): Promise<StoredAnswer | null> {
    return this.selectOne<StoredAnswer>(FIND_LIVE_SQL, [actorId, key]);
  }

  /** Stores the answer (over an expired key of the same name not swept yet: the claim rules out a live one). */
  async save(values: Omit<IdempotencyKeyAttributes, 'createdAt'>): Promise<void> {
    await this.ready();
    await this.keys.upsert(values);
  }

  /** Deletes up to `limit` expired keys; how many went. */
  async sweep(limit: number): Promise<number> {
    await this.ready();
    return (await this.sequelize.query(SWEEP_SQL, { bind: [limit], type: QueryTypes.BULKDELETE })) as unknown as number;
  }
}
