/**
 * The bounds on every round trip between the app and PostgreSQL, as node-postgres (pg 8) client settings, passed
 * to Sequelize as `dialectOptions` (Sequelize's postgres dialect copies these names into each pg Client it opens):
 * - connectionTimeoutMillis: TCP connect plus authentication;
 * - statement_timeout, lock_timeout, idle_in_transaction_session_timeout: sent in the startup message, enforced by
 *   the server (SQLSTATE 57014, 55P03, 25P03); behind a transaction pooler, which cannot carry them, they are the
 *   server's settings for the role instead, checked at start (pooled-session-limits.ts);
 * - query_timeout: the client's own bound on a round trip, for what the server cannot see (a network that drops
 *   packets silently); the connection is unusable afterwards and is discarded;
 * - TCP keepalive, so a connection idle in the pool across a silent network failure is found dead by the kernel.
 *   Sequelize forwards `keepAlive` but not `keepAliveInitialDelayMillis`, so the socket is made here, with its
 *   keepalive delay set before it connects (pg then turns keepalive on with delay 0, which keeps this delay).
 */
import { Socket } from 'node:net';
import pg from 'pg';
import type { DatabaseLimits } from '../config/environment';

export const APPLICATION_NAME = 'nest-sequelize-service';

export interface PgConnectionOptions {
  application_name: string;
  connectionTimeoutMillis: number;
  statement_timeout?: number;
  lock_timeout?: number;
  idle_in_transaction_session_timeout?: number;
  query_timeout?: number;
  /** Sequelize's: `ignore` leaves out its `SET client_min_messages` on each new connection. */
  clientMinMessages?: 'ignore';
  /** Server settings for the session, in the startup message (`-c name=value`). */
  options?: string;
  keepAlive: true;
  keepAliveInitialDelayMillis: number;
  stream: () => Socket;
}

/** The limits PostgreSQL enforces per session, by setting name: startup parameters, or the role's settings when pooled. */
export interface ServerLimits {
  statement_timeout: number;
  lock_timeout: number;
  idle_in_transaction_session_timeout: number;
}

export function serverLimits(limits: DatabaseLimits): ServerLimits {
  return {
    statement_timeout: limits.statementTimeoutMs,
    lock_timeout: limits.lockTimeoutMs,
    idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs,
  };
}

/** The variable that configures each server limit, for messages. */
export const SERVER_LIMIT_VARIABLES: Record<keyof ServerLimits, string> = {
  statement_timeout: 'DB_STATEMENT_TIMEOUT_MS',
  lock_timeout: 'DB_LOCK_TIMEOUT_MS',
  idle_in_transaction_session_timeout: 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS',
};

export function pgConnectionOptions(limits: DatabaseLimits, applicationName = APPLICATION_NAME): PgConnectionOptions {
  const session = sessionOptions(limits, applicationName);
  // Behind a transaction pooler: nothing that lives in a server session (a SET would stay with whichever connection got it).
  if (limits.pooled) return { ...session, query_timeout: limits.queryTimeoutMs, clientMinMessages: 'ignore' };
  return { ...session, ...serverLimits(limits), query_timeout: limits.queryTimeoutMs };
}

/** Migrations' sessions: no statement, lock or idle-transaction bound, whatever the role's settings say. */
export const UNBOUNDED_SESSION_OPTIONS = Object.keys(SERVER_LIMIT_VARIABLES)
  .map((name) => `-c ${name}=0`)
  .join(' ');

/**
 * For migrations: the same connect timeout and keepalive, but no statement, lock or query bound, so a long
 * `CREATE INDEX` on a big table is not cancelled half-way (the migration lock already keeps instances apart). The
 * bounds are turned off explicitly: behind a pooler they are the role's settings, which would apply here too.
 */
export function migrationConnectionOptions(limits: DatabaseLimits): PgConnectionOptions {
  return {
    ...sessionOptions(limits, `${APPLICATION_NAME}:migrations`),
    options: UNBOUNDED_SESSION_OPTIONS,
  };
}

function sessionOptions(limits: DatabaseLimits, applicationName: string): PgConnectionOptions {
  return {
    application_name: applicationName,
    connectionTimeoutMillis: limits.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: limits.keepAliveIdleMs,
    stream: () => {
      const socket = new Socket();
      socket.setKeepAlive(true, limits.keepAliveIdleMs);
      return socket;
    },
  };
}

/**
 * node-postgres with one change, given to Sequelize as `dialectModule`: every Client listens for 'error' from the
 * moment it exists. Sequelize attaches its own listener only once connect() has resolved, and a FATAL message that
 * arrives in the same socket read as the connect's ReadyForQuery (the server shutting down just then) is emitted
 * before that, to no listener: an uncaught exception that ends the process. Here such a client ends itself instead,
 * so Sequelize's pool validation drops it; later errors reach Sequelize's listener as before.
 */
class GuardedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', () => {
      this.end().catch(() => undefined);
    });
  }
}

export const pgDialectModule: typeof pg = Object.assign(Object.create(pg) as typeof pg, { Client: GuardedClient });
