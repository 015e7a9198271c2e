/**
 * Which errors are the database's fault rather than the request's or the code's: those are answered 503 with
 * Retry-After (the client may try again), logged at warn, once per episode; anything else stays a 500 and an error.
 *
 * The error arrives in three shapes:
 * - Sequelize's ConnectionError family: a connection that could not be opened (refused, timed out) or taken from
 *   the pool in time (ConnectionAcquireTimeoutError);
 * - Sequelize's DatabaseError wrapping a PostgreSQL error that carries a SQLSTATE (statement cancelled, lock
 *   timeout, server shutting down, …);
 * - Sequelize's DatabaseError wrapping a node-postgres *connection* error, which has no SQLSTATE: the socket closed
 *   under a query ("Connection terminated unexpectedly"), the client-side query_timeout fired ("Query read
 *   timeout"), or a network error code (ECONNRESET, …).
 */
import { BaseError, ConnectionAcquireTimeoutError, ConnectionError, TimeoutError } from 'sequelize';

export type DatabaseFaultKind =
  /** A connection could not be opened: the database is down or unreachable. */
  | 'unreachable'
  /** A connection broke under a query: the database or the network may be gone. */
  | 'connection-lost'
  /** The client gave up waiting for an answer (query_timeout): the network may be silently dropping packets. */
  | 'no-answer'
  /** A bound the server or the pool enforces was reached: statement or lock timeout, idle transaction, acquire. */
  | 'timeout'
  /** The server refuses more work for now (too many connections). */
  | 'busy'
  /** Serialization failure or deadlock: the same request, sent again, will most likely succeed. */
  | 'conflict';

export interface DatabaseFault {
  kind: DatabaseFaultKind;
  /** Short, for logs only (never in a response): a SQLSTATE, an error code or a message. */
  reason: string;
}

const SQLSTATE_KINDS: Record<string, DatabaseFaultKind> = {
  '57014': 'timeout', // query_canceled: statement_timeout (or a cancel request)
  '55P03': 'timeout', // lock_not_available: lock_timeout
  '25P03': 'timeout', // idle_in_transaction_session_timeout
  '57P01': 'connection-lost', // admin_shutdown
  '57P02': 'connection-lost', // crash_shutdown
  '57P03': 'unreachable', // cannot_connect_now (starting up, shutting down)
  '53300': 'busy', // too_many_connections
  '40001': 'conflict', // serialization_failure
  '40P01': 'conflict', // deadlock_detected
};

const NETWORK_CODES: Record<string, DatabaseFaultKind> = {
  ECONNREFUSED: 'unreachable',
  ENOTFOUND: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ECONNRESET: 'connection-lost',
  ETIMEDOUT: 'connection-lost',
  EPIPE: 'connection-lost',
};

// node-postgres' own messages for a connection that failed or closed (it gives them no code).
const PG_CONNECTION_MESSAGES: Array<[RegExp, DatabaseFaultKind]> = [
  [/^Query read timeout$/, 'no-answer'],
  [/^Connection terminated due to connection timeout$/, 'unreachable'],
  [/^Connection terminated/, 'connection-lost'],
  [/not queryable/, 'connection-lost'],
];

export function databaseFault(error: unknown): DatabaseFault | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const cause = (error as { parent?: unknown }).parent ?? (error as { original?: unknown }).original;
  const code = typeof (cause as { code?: unknown } | undefined)?.code === 'string' ? (cause as { code: string }).code : undefined;
  const message = cause instanceof Error ? cause.message : error.message;

  if (error instanceof ConnectionAcquireTimeoutError) return { kind: 'timeout', reason: 'pool acquire timeout' };
  if (code && SQLSTATE_KINDS[code]) return { kind: SQLSTATE_KINDS[code], reason: `${code} ${message}` };
  if (code?.startsWith('08')) return { kind: code === '08001' || code === '08004' ? 'unreachable' : 'connection-lost', reason: `${code} ${message}` };
  if (code && NETWORK_CODES[code]) {
    // A connect attempt that failed is 'unreachable' whatever the code; the same code under a query is a lost connection.
    return { kind: error instanceof ConnectionError ? 'unreachable' : NETWORK_CODES[code], reason: code };
  }
  for (const [pattern, kind] of PG_CONNECTION_MESSAGES) {
    if (pattern.test(message)) return { kind: error instanceof ConnectionError ? 'unreachable' : kind, reason: message };
  }
  if (error instanceof ConnectionError) return { kind: 'unreachable', reason: message || error.name };
  if (error instanceof TimeoutError) return { kind: 'timeout', reason: message || error.name };
  return undefined;
}

/** Whether this fault says something about the database being reachable at all (the breaker's business). */
export function questionsReachability(fault: DatabaseFault): boolean {
  return fault.kind === 'unreachable' || fault.kind === 'connection-lost' || fault.kind === 'no-answer';
}
