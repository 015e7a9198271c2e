/**
 * One bound SELECT on a connection from Sequelize's own pool, for the hottest single-statement reads
 * (GET /users/:id). `sequelize.query()` adds a fixed cost per call that does not depend on the statement: two
 * copies of its options, lodash defaults, a retry wrapper, two hook runs, a Query object with a fresh uuid, bind
 * parameter rewriting. On the by-id read that was about a tenth of the app's CPU per request, the difference between
 * 0.74 and 0.83 of the raw-pg baseline (bench/README.md).
 *
 * What stays the same as `sequelize.query(sql, { bind, type: SELECT })`:
 * - inside a transaction (a request transaction or a `sequelize.transaction()` callback) it *is* that call, so the
 *   read joins the transaction and sees its writes;
 * - the pool, its limits and time-outs, and the connection's type parsers are Sequelize's; a pool error (refused,
 *   acquire time-out) is Sequelize's ConnectionError, a statement error is wrapped in Sequelize's DatabaseError, so
 *   the exception filter answers exactly as for any other query;
 * - the `logging` option and `beforeQuery`/`afterQuery` hooks still see the statement.
 */
import { DatabaseError, QueryTypes } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';
import { currentTransaction } from './transaction-context';

/** The part of node-postgres' Client that Sequelize's postgres connections expose. */
interface PgConnection {
  query<T>(text: string, values: readonly unknown[]): Promise<{ rows: T[] }>;
}

type QueryHooks = {
  runHooks(name: 'beforeQuery' | 'afterQuery', options: object, query: { sql: string }): Promise<void>;
};

export async function pooledSelect<T extends object>(sequelize: Sequelize, sql: string, bind: readonly unknown[]): Promise<T[]> {
  if (currentTransaction()) return sequelize.query<T>(sql, { bind: [...bind], type: QueryTypes.SELECT });

  const logging = sequelize.options.logging;
  if (typeof logging === 'function') logging(`Executing (default): ${sql}`);
  const hooked = sequelize.hasHook('beforeQuery') || sequelize.hasHook('afterQuery');
  const options = { type: QueryTypes.SELECT, bind };
  const query = { sql };

  // The pool reads `type` as Sequelize's own calls pass it (the query type: SELECT picks a read replica when
  // replication is configured); the declared type of the option says 'read' | 'write'.
  const connection = (await sequelize.connectionManager.getConnection({ type: QueryTypes.SELECT as never })) as PgConnection;
  try {
    if (hooked) await (sequelize as unknown as QueryHooks).runHooks('beforeQuery', options, query);
    const { rows } = await connection.query<T>(sql, bind).catch((error: Error) => {
      throw new DatabaseError(Object.assign(error, { sql, parameters: bind }));
    });
    return rows;
  } finally {
    if (hooked) await (sequelize as unknown as QueryHooks).runHooks('afterQuery', options, query);
    void sequelize.connectionManager.releaseConnection(connection);
  }
}
