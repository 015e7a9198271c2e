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
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Redis from 'ioredis';
import { type Environment, NodeEnv } from '../../config/environment';
import { connectionOptionsOf } from './replication';

const pinned = new AsyncLocalStorage<true>();

/** Whether the current request reads from the primary (a recent writer's). */
export function readsPinnedToPrimary(): boolean {
  return pinned.getStore() === true;
}

const READS = new Set(['GET', 'HEAD']);
const KEY_PREFIX = 'recent-writer:';

@Injectable()
export class RecentWriters implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RecentWriters.name);
  /** How long after a write the writer's reads stay on the primary. */
  readonly windowMs: number;
  readonly enabled: boolean;
  private readonly redis?: Redis;
  /** Without Redis: actor id → until when. */
  private readonly local = new Map<number, number>();

  constructor(
    config: ConfigService<Environment, true>,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.enabled = config.get('readUrls', { infer: true }).length > 0;
    this.windowMs = config.get('DB_REPLICA_MAX_LAG_MS', { infer: true }) + 2 * config.get('DB_REPLICA_PROBE_MS', { infer: true });
    const redisUrl = config.get('REDIS_URL', { infer: true });
    if (this.enabled && redisUrl) {
      // Keyed by the database too: user ids of two deployments sharing a Redis are not the same users.
      const database = connectionOptionsOf(config.getOrThrow('DATABASE_URL', { infer: true }));
      const keyPrefix = `${KEY_PREFIX}${database.host}:${database.port}/${database.database ?? ''}:`;
      this.redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 500, keyPrefix });
      this.redis.on('error', (error: Error) => this.logger.warn({ msg: 'Redis for read-your-writes unavailable', err: error.message }));
    } else if (this.enabled && config.get('NODE_ENV', { infer: true }) === NodeEnv.Production) {
      this.logger.warn('REDIS_URL is not set: read-your-writes pins are kept in this process; with several instances, set REDIS_URL so that all of them see a write');
    }
  }

  /** After `actorId`'s write has committed. */
  async wrote(actorId: number): Promise<void> {
    if (!this.enabled) return;
    if (!this.redis) return this.remember(actorId);
    // A Redis that fails here: this instance still pins the writer; others cannot know (logged).
    await this.redis.set(String(actorId), '1', 'PX', this.windowMs).catch((error: Error) => {
      this.remember(actorId);
      this.logger.warn({ msg: 'could not record a write for read-your-writes in Redis', actorId, err: error.message });
    });
  }

  async isRecent(actorId: number): Promise<boolean> {
    const until = this.local.get(actorId);
    if (until !== undefined && until > Date.now()) return true;
    if (!this.redis) return false;
    try {
      return (await this.redis.exists(String(actorId))) === 1;
    } catch {
      return true;
    }
  }

  /** Before Nest registers the routes, so that every route runs the hook. */
  onModuleInit(): void {
    const instance = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    // No replicas, or no HTTP server (a standalone application context): nothing to pin.
    if (this.enabled && typeof instance?.addHook === 'function') this.register(instance);
  }

  /** The hook that pins a recent writer's reads. */
  private register(instance: FastifyInstance): void {
    // While no request is pinned the storage is off: on Node 22 an enabled AsyncLocalStorage costs every promise of
    // every request (transaction-context.ts), and most requests are never pinned.
    let active = 0;
    const pin = (reply: FastifyReply, done: () => void) => {
      active += 1;
      reply.raw.once('close', () => {
        active -= 1;
        if (active === 0) pinned.disable();
      });
      pinned.run(true, done);
    };
    instance.addHook('onRequest', (request, reply, done) => {
      if (!READS.has(request.method)) return done();
      const actorId = bearerSubject(request);
      if (actorId === undefined) return done();
      this.isRecent(actorId).then(
        (recent) => (recent ? pin(reply, done) : done()),
        () => pin(reply, done),
      );
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis?.disconnect();
  }

  private remember(actorId: number): void {
    this.local.set(actorId, Date.now() + this.windowMs);
    if (this.local.size > 10_000) this.forgetExpired();
  }

  private forgetExpired(): void {
    const now = Date.now();
    for (const [actorId, until] of this.local) if (until <= now) this.local.delete(actorId);
  }
}

/** The numeric `sub` of a bearer JWT, unverified (see above); undefined for anything else. */
function bearerSubject(request: FastifyRequest): number | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || header.length > 4096) return undefined;
  // The scheme as the AuthGuard reads it: case-insensitive, spaces around the token.
  const payload = /^bearer +(\S+) *$/i.exec(header)?.[1].split('.')[1];
  if (!payload) return undefined;
  try {
    const sub: unknown = (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub?: unknown }).sub;
    const id = typeof sub === 'string' ? Number(sub) : sub;
    return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}
