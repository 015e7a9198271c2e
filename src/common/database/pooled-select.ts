/**
 * One bound SELECT on a connection from Sequelize's own pool, for the hottest single-statement reads
 * (GET /users/:id). `sequelize.query()` adds a fixed cost per call that does not depend on the statement: two
 * copies of its options, lodash defaults, a retry wrapper, two hook runs, a Query object with a fresh uuid, bind
 * parameter rewriting. On the by-id read that was about a tenth of the app's CPU per request, the difference between
 * 0.74 and 0.83 of the raw-pg baseline (bench/README.md).
 *
 * What stays the same as `sequelize.query(sql, { bind, type: SELECT })`:
 * - with a transaction in the async context (a request transaction or a `sequelize.transaction()` callback) it *is*
 *   that call, so the read joins the transaction and sees its writes (the context is read as Sequelize reads it);
 * - the pool, its limits and time-outs, and the connection's type parsers are Sequelize's; a pool error (refused,
 *   acquire time-out) is Sequelize's ConnectionError; a statement error goes through the dialect's own `formatError`
 *   (unique violation → UniqueConstraintError, … → DatabaseError), so the exception filter answers exactly as for
 *   any other query; string parameters have NUL escaped as Sequelize's postgres dialect does;
 * - the `logging` option (without `benchmark` timings) and `beforeQuery`/`afterQuery` hooks still see the statement,
 *   with a Query object built only when such a hook is registered;
 * - a connection whose query failed without a server error (client-side query_timeout, socket closed) is destroyed,
 *   as Sequelize's own query path invalidates it, never handed to the next request.
 */
import { DatabaseError as PgDatabaseError } from 'pg';
import { QueryTypes } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';
import { transactionNamespace } from './transaction-context';

/** The part of node-postgres' Client that Sequelize's postgres connections expose. */
interface PgConnection {
  query<T>(text: string, values: readonly unknown[]): Promise<{ rows: T[] }>;
}

/** Sequelize's dialect Query, as far as it is used here. */
interface DialectQuery {
  sql: string;
  formatError(error: Error): Error;
}

interface SequelizeInternals {
  dialect: { Query: new (connection: unknown, sequelize: Sequelize, options: object) => DialectQuery };
  runHooks(name: 'beforeQuery' | 'afterQuery', options: object, query: DialectQuery): Promise<void>;
}

export async function pooledSelect<T extends object>(sequelize: Sequelize, sql: string, bind: readonly unknown[]): Promise<T[]> {
  if (transactionNamespace.get('transaction')) return sequelize.query<T>(sql, { bind: [...bind], type: QueryTypes.SELECT });

  const internals = sequelize as unknown as SequelizeInternals;
  const values = bind.map((value) => (typeof value === 'string' ? value.replace(/\0/g, '\\0') : value));
  const options = { type: QueryTypes.SELECT, bind: values, logging: false };
  const logging = sequelize.options.logging;
  if (typeof logging === 'function') logging(`Executing (default): ${sql}`);

  // The pool reads `type` as Sequelize's own calls pass it (the query type: SELECT picks a read replica when
  // replication is configured); the declared type of the option says 'read' | 'write'.
  const connection = (await sequelize.connectionManager.getConnection({ type: QueryTypes.SELECT as never })) as PgConnection;
  const hooked = sequelize.hasHook('beforeQuery') || sequelize.hasHook('afterQuery') ? dialectQuery(sequelize, connection, options, sql) : undefined;
  let broken = false;
  try {
    if (hooked) await internals.runHooks('beforeQuery', options, hooked);
    const { rows } = await connection.query<T>(sql, values).catch((error: Error) => {
      broken = !(error instanceof PgDatabaseError);
      const query = hooked ?? dialectQuery(sequelize, connection, options, sql);
      throw query.formatError(Object.assign(error, { sql, parameters: values }));
    });
    return rows;
  } finally {
    if (hooked) await internals.runHooks('afterQuery', options, hooked);
    // An error the server did not send (pg's query_timeout fired, the socket closed) leaves the connection out of
    // step with the protocol or dead: it leaves the pool instead of going back to the next request.
    if (broken) void sequelize.connectionManager.destroyConnection(connection).catch(() => undefined);
    else sequelize.connectionManager.releaseConnection(connection);
  }
}

/** The Query object Sequelize itself would have built: what hooks receive, and whose formatError maps errors. */
function dialectQuery(sequelize: Sequelize, connection: PgConnection, options: object, sql: string): DialectQuery {
  const { Query } = (sequelize as unknown as SequelizeInternals).dialect;
  return Object.assign(new Query(connection, sequelize, options), { sql });
}
