/**
 * Sequelize's `replication` option from DATABASE_URL and DATABASE_READ_URLS: a SELECT made outside a transaction is
 * read from a replica (round robin over them), every other statement, and every statement of a transaction, goes to
 * the primary. The replicas take the primary's pool bounds and connection options (dialectOptions).
 */
import type { ConnectionOptions, ReplicationOptions } from 'sequelize';

/** The fields Sequelize takes for one server, from a postgres:// URL (its query parameters are not carried over). */
export function connectionOptionsOf(url: string): ConnectionOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: parsed.port || 5432,
    username: decodeURIComponent(parsed.username) || undefined,
    password: decodeURIComponent(parsed.password) || undefined,
    database: decodeURIComponent(parsed.pathname.slice(1)) || undefined,
  };
}

/** false without replicas (Sequelize's own default: undefined is not): one pool, on DATABASE_URL. */
export function replicationOptions(primaryUrl: string, readUrls: readonly string[]): ReplicationOptions | false {
  if (readUrls.length === 0) return false;
  return { write: connectionOptionsOf(primaryUrl), read: readUrls.map(connectionOptionsOf) };
}

/** `host:port` of a server, as the monitor and the logs name it (never its credentials). */
export function serverName(url: string): string {
  const { host, port } = connectionOptionsOf(url);
  return `${host}:${port}`;
}
