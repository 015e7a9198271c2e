/**
 * Read-your-writes behind replicas. A replica may be up to DB_REPLICA_MAX_LAG_MS behind (ReplicaMonitor takes it out
 * of rotation beyond that), so for that long, plus two probe intervals, after a caller's write its own reads go to
 * the primary: the caller is "a recent writer", and an onRequest hook runs its GET and HEAD requests with reads
 * pinned to the primary (ReplicaMonitor's pool hook reads `readsPinnedToPrimary`).
 *
 * Recent writers are kept in Redis when REDIS_URL is set, so every instance sees a write made through another, and
 * in this process otherwise (one instance). A Redis that does not answer pins the read: the primary is always right.
 * The caller is the `sub` of its bearer token, read without verifying it: it only decides where reads go, and the
 * AuthGuard still refuses a token that is not valid.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Redis from 'ioredis';
import type { Environment } from '../../config/environment';
import { connectionOptionsOf } from './replication';

const pinned = new AsyncLocalStorage<true>();

/** Whether the current request reads from the primary (a recent writer's). */
export function readsPinnedToPrimary(): boolean {
  return pinned.getStore() === true;
}

const READS = new Set(['GET', 'HEAD']);
const KEY_PREFIX = 'recent-writer:';

@Injectable()
export class RecentWriters implements OnApplicationShutdown {
  private readonly logger = new Logger(RecentWriters.name);
  /** How long after a write the writer's reads stay on the primary. */
  readonly windowMs: number;
  readonly enabled: boolean;
  private readonly redis?: Redis;
  /** Without Redis: actor id → until when. */
  private readonly local = new Map<number, number>();

  constructor(config: ConfigService<Environment, true>) {
    this.enabled = config.get('readUrls', { infer: true }).length > 0;
    this.windowMs = config.get('DB_REPLICA_MAX_LAG_MS', { infer: true }) + 2 * config.get('DB_REPLICA_PROBE_MS', { infer: true });
    const redisUrl = config.get('REDIS_URL', { infer: true });
    if (this.enabled && redisUrl) {
      // Keyed by the database too: user ids of two deployments sharing a Redis are not the same users.
      const database = connectionOptionsOf(config.getOrThrow('DATABASE_URL', { infer: true }));
      const keyPrefix = `${KEY_PREFIX}${database.host}:${database.port}/${database.database ?? ''}:`;
      this.redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 500, keyPrefix });
      this.redis.on('error', (error: Error) => this.logger.warn({ msg: 'Redis for read-your-writes unavailable', err: error.message }));
    }
  }

  /** After `actorId`'s write has committed. */
  async wrote(actorId: number): Promise<void> {
    if (!this.enabled) return;
    if (!this.redis) {
      this.local.set(actorId, Date.now() + this.windowMs);
      if (this.local.size > 10_000) this.forgetExpired();
      return;
    }
    // If Redis fails here, the writer's next reads may go to a replica within the lag bound: logged, not fatal.
    await this.redis.set(String(actorId), '1', 'PX', this.windowMs).catch((error: Error) => {
      this.logger.warn({ msg: 'could not record a write for read-your-writes', actorId, err: error.message });
    });
  }

  async isRecent(actorId: number): Promise<boolean> {
    if (!this.redis) {
      const until = this.local.get(actorId);
      return until !== undefined && until > Date.now();
    }
    try {
      return (await this.redis.exists(String(actorId))) === 1;
    } catch {
      return true;
    }
  }

  /** The hook that pins a recent writer's reads (registered by ReplicaMonitor, before the routes). */
  register(instance: FastifyInstance): void {
    instance.addHook('onRequest', (request, _reply, done) => {
      if (!READS.has(request.method)) return done();
      const actorId = bearerSubject(request);
      if (actorId === undefined) return done();
      this.isRecent(actorId).then(
        (recent) => (recent ? pinned.run(true, done) : done()),
        () => pinned.run(true, done),
      );
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis?.disconnect();
  }

  private forgetExpired(): void {
    const now = Date.now();
    for (const [actorId, until] of this.local) if (until <= now) this.local.delete(actorId);
  }
}

/** The numeric `sub` of a bearer JWT, unverified (see above); undefined for anything else. */
function bearerSubject(request: FastifyRequest): number | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ') || header.length > 4096) return undefined;
  const payload = header.slice(7).split('.')[1];
  if (!payload) return undefined;
  try {
    const sub: unknown = (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub?: unknown }).sub;
    const id = typeof sub === 'string' ? Number(sub) : sub;
    return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}
