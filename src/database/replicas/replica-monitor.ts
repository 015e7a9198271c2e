/**
 * Keeps reads off replicas that are down or behind. Every DB_REPLICA_PROBE_MS it reads the primary's WAL position
 * (pg_current_wal_lsn) and each replica's replay position (pg_last_wal_replay_lsn). A replica is in rotation when it
 * answers and has replayed everything the primary had written DB_REPLICA_MAX_LAG_MS ago; until the first probe, and
 * while any replica is out, every read goes to the primary (Sequelize's `useMaster`, set in a `beforePoolAcquire`
 * hook), and reads return to the replicas once all are back. So does the read of a recent writer (recent-writers.ts).
 *
 * The probes use connections of their own, bounded by the lag bound, never the app's pools (a busy pool must not
 * delay them), and a verdict older than the lag bound counts as out of rotation.
 *
 * With one replica that is exact. With several, one behind sends every read to the primary until it catches up:
 * Sequelize's read pool offers no public way to skip one of its servers.
 */
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Client } from 'pg';
import { Sequelize } from 'sequelize-typescript';
import type { Environment } from '../../config/environment';
import { pgConnectionOptions } from '../connection-options';
import { readsPinnedToPrimary } from './recent-writers';
import { serverName } from './replication';

const HOOK_NAME = 'replica-rotation';

/** A WAL position ('16/B374D848') as a number that orders like it. */
export function lsnValue(lsn: string): bigint {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

interface Server {
  readonly url: string;
  readonly name: string;
  client?: Client;
}

interface Replica extends Server {
  inRotation: boolean;
  /** Why it is out, for the log and /health. */
  reason?: string;
}

export interface ReplicaStatus {
  readonly name: string;
  readonly inRotation: boolean;
  readonly reason?: string;
}

@Injectable()
export class ReplicaMonitor implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ReplicaMonitor.name);
  private readonly replicas: Replica[];
  private readonly primary: Server;
  /** When the last round that put every replica in rotation ended. */
  private allInRotationAt = 0;
  private readonly maxLagMs: number;
  private readonly probeMs: number;
  /** The primary's WAL position over the last DB_REPLICA_MAX_LAG_MS and a little more, oldest first. */
  private readonly history: Array<{ at: number; lsn: bigint }> = [];
  private allInRotation = false;
  private timer?: NodeJS.Timeout;
  private probing?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly sequelize: Sequelize,
    private readonly config: ConfigService<Environment, true>,
  ) {
    this.replicas = config.get('readUrls', { infer: true }).map((url) => ({ url, name: serverName(url), inRotation: false }));
    const primaryUrl = config.get('DATABASE_URL', { infer: true }) ?? '';
    this.primary = { url: primaryUrl, name: primaryUrl && serverName(primaryUrl) };
    this.maxLagMs = config.get('DB_REPLICA_MAX_LAG_MS', { infer: true });
    this.probeMs = config.get('DB_REPLICA_PROBE_MS', { infer: true });
  }

  get enabled(): boolean {
    return this.replicas.length > 0;
  }

  status(): ReplicaStatus[] {
    return this.replicas.map(({ name, inRotation, reason }) => ({ name, inRotation, ...(reason && { reason }) }));
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    this.sequelize.addHook('beforePoolAcquire', HOOK_NAME, (options) => {
      if (!this.allInRotation || Date.now() - this.allInRotationAt > this.maxLagMs || readsPinnedToPrimary()) options.useMaster = true;
    });
    await this.probe();
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.probing;
    await Promise.all([this.primary, ...this.replicas].map((server) => server.client?.end().catch(() => undefined)));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.probe().finally(() => this.schedule());
    }, this.probeMs);
    this.timer.unref();
  }

  /** One round: the primary's position, then each replica's against it. Never throws. */
  probe(): Promise<void> {
    this.probing ??= this.probeOnce().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  private async probeOnce(): Promise<void> {
    const now = Date.now();
    try {
      const lsn = await this.ask(this.primary, 'SELECT pg_current_wal_lsn()::text AS lsn');
      this.history.push({ at: now, lsn: lsnValue(lsn!) });
    } catch (error) {
      this.drop(this.primary);
      // Without the primary's position nothing can be judged; reads go where writes go (and fail as they do).
      for (const replica of this.replicas) this.mark(replica, false, `the primary's position is unknown: ${message(error)}`);
      return;
    }
    // Keep the newest sample at least DB_REPLICA_MAX_LAG_MS old, and everything after it.
    while (this.history.length > 1 && this.history[1].at <= now - this.maxLagMs) this.history.shift();
    // What a replica must have replayed: the primary's position DB_REPLICA_MAX_LAG_MS ago (the oldest known at first).
    const required = this.history[0].lsn;
    await Promise.all(
      this.replicas.map(async (replica) => {
        try {
          const lsn = await this.ask(replica, 'SELECT pg_last_wal_replay_lsn()::text AS lsn');
          if (lsn === null) this.mark(replica, false, 'not replaying (not a standby)');
          else if (lsnValue(lsn) < required) this.mark(replica, false, `more than ${this.maxLagMs} ms behind the primary`);
          else this.mark(replica, true);
        } catch (error) {
          this.drop(replica);
          this.mark(replica, false, `unreachable: ${message(error)}`);
        }
      }),
    );
    this.allInRotation = this.replicas.every((replica) => replica.inRotation);
    if (this.allInRotation) this.allInRotationAt = Date.now();
  }

  /** One value from `server`, on the monitor's own connection to it (opened when needed). */
  private async ask(server: Server, sql: string): Promise<string | null> {
    if (!server.client) {
      const client = new Client({
        connectionString: server.url,
        ...pgConnectionOptions(this.config.get('databaseLimits', { infer: true }), 'nest-sequelize-service:replica-monitor'),
        // A probe that takes longer than the lag bound is as good as an answer that the replica is behind.
        query_timeout: Math.min(this.maxLagMs, this.config.get('DB_QUERY_TIMEOUT_MS', { infer: true })),
      });
      client.on('error', () => undefined);
      server.client = client;
      await client.connect();
    }
    const { rows } = await server.client.query<{ lsn: string | null }>(sql);
    return rows[0].lsn;
  }

  private drop(server: Server): void {
    server.client?.end().catch(() => undefined);
    server.client = undefined;
  }

  private mark(replica: Replica, inRotation: boolean, reason?: string): void {
    if (inRotation && !replica.inRotation) this.logger.log({ msg: 'replica in rotation', replica: replica.name });
    if (!inRotation && replica.inRotation) this.logger.warn({ msg: 'replica out of rotation: reads go to the primary', replica: replica.name, reason });
    if (!inRotation) this.allInRotation = false;
    replica.inRotation = inRotation;
    replica.reason = reason;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}
