/**
 * One Sequelize transaction per mutating request (POST, PUT, PATCH, DELETE), begun by the request's first
 * statement (after validation and access checks, which cost no BEGIN), committed before the response is sent and
 * rolled back when the handler fails; the error then reaches the exception filter unchanged
 * (a deadlock or serialization failure becomes 503 + Retry-After there). GET, HEAD and OPTIONS run without one.
 * `@Transactional()` / `@Transactional(false)` override the default per route or controller.
 *
 * Bound to the routes that need it by `@TransactionalRoutes()` on each controller (see
 * transactional-routes.decorator.ts), not globally, so reads carry no interceptor at all.
 *
 * Services never pass `{ transaction }`: see common/database/transaction-context.ts for how their queries find it.
 */
import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { defer, lastValueFrom, type Observable } from 'rxjs';
import { QueryTypes, type Transaction, type TransactionOptions } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import type { Environment, IsolationLevelName } from '../../config/environment';
import { RecentWriters } from '../../database/replicas/recent-writers';
import { databaseFault } from '../database/database-faults';
import { begunRequestTransaction, openRequestTransaction } from '../database/transaction-context';
import { TRANSACTIONAL_KEY, TRANSACTIONAL_METHODS, type TransactionalSetting } from './transactional.decorator';

/** The parts of node-postgres' Client that tell whether the session's transaction has failed, and end it. */
interface PgClientState {
  end?(): Promise<void>;
  /** 'E' = in a failed transaction block; updated when PostgreSQL reports ReadyForQuery. */
  getTransactionStatus?(): string | null;
  /** false while a statement's ReadyForQuery is outstanding (pg settles a failed statement before it arrives). */
  readyForQuery?: boolean;
}

const ABORTED = 'The request transaction was aborted by a database error that the handler caught; nothing was committed';

/** Cached per handler: undefined means "no decorator". */
type RouteSetting = { readonly setting: TransactionalSetting | undefined };

@Injectable()
export class TransactionInterceptor implements NestInterceptor, OnModuleInit {
  private readonly logger = new Logger(TransactionInterceptor.name);
  private readonly isolationLevel: IsolationLevelName;
  /** What every default transaction is opened with; `{}` once the server's default is known to match. */
  private defaultOptions: TransactionOptions;
  /** By controller class, then handler: an inherited handler can carry a different class-level setting. */
  private readonly routeSettings = new WeakMap<object, WeakMap<object, RouteSetting>>();

  constructor(
    private readonly sequelize: Sequelize,
    private readonly reflector: Reflector,
    config: ConfigService<Environment, true>,
    private readonly recentWriters: RecentWriters,
  ) {
    this.isolationLevel = config.get('DB_ISOLATION_LEVEL', { infer: true });
    this.defaultOptions = { isolationLevel: this.isolationLevel as TransactionOptions['isolationLevel'] };
  }

  /**
   * Sequelize sends `SET TRANSACTION ISOLATION LEVEL …` after every BEGIN when an isolation level is given:
   * a round trip per request. When the server's default already is the configured level, leave it out.
   * On any doubt the explicit statement stays.
   */
  async onModuleInit(): Promise<void> {
    if ((await serverDefaultIsolation(this.sequelize, this.isolationLevel, this.logger)) === this.isolationLevel) this.defaultOptions = {};
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = context.getType() === 'http' ? this.transactionOptions(context) : undefined;
    if (!options) return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const audit = { actorId: request.actor?.id ?? null, requestId: String(request.id) };
    // next.handle() must be called inside the context: Nest binds the handler (and the pipes before it) to the async
    // context current at that call. The handler's Observable is awaited there too, so the commit happens before the
    // response is written.
    return defer(() => openRequestTransaction(this.sequelize, options, { audit, ifMatch: request.ifMatch }, () => this.settle(next, audit.actorId)));
  }

  /** Runs the handler, then commits the transaction its repositories began, or rolls it back when anything failed. */
  private async settle(next: CallHandler, actorId: number | null): Promise<unknown> {
    let result: unknown;
    try {
      result = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (error) {
      await rollBack(error);
      throw error;
    }
    // Nothing begun (the handler answered without a statement): no BEGIN, no COMMIT.
    const transaction = await begunRequestTransaction();
    if (!transaction) return result;
    try {
      await this.assertNotAborted(transaction);
    } catch (error) {
      await rollBack(error);
      throw error;
    }
    // A failed COMMIT has ended the transaction (Sequelize marks it finished and releases the connection).
    await transaction.commit();
    // Behind read replicas: the writer's own next reads go to the primary (replicas/recent-writers.ts).
    if (actorId !== null) await this.recentWriters.wrote(actorId);
    return result;
  }

  /**
   * PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, not with an error: a handler that caught a
   * database error and returned normally would send a 2xx for writes that were all discarded. After a successful
   * statement pg's status is current and this costs nothing; only after a failed one (its ReadyForQuery may still
   * be in flight) does a `SELECT 1` settle it. A handler that expects a statement to fail must run it in a nested
   * `inTransaction()` (a savepoint), which leaves the request transaction usable.
   */
  private async assertNotAborted(transaction: Transaction): Promise<void> {
    const client = (transaction as unknown as { connection?: PgClientState }).connection;
    if (client?.getTransactionStatus?.() === 'E') throw new Error(ABORTED);
    if (client?.readyForQuery !== false) return;
    try {
      await this.sequelize.query('SELECT 1', { transaction });
    } catch (error) {
      // 25P02: in_failed_sql_transaction
      if ((error as { parent?: { code?: string } }).parent?.code === '25P02') throw new Error(ABORTED);
      throw error;
    }
  }

  private transactionOptions(context: ExecutionContext): TransactionOptions | undefined {
    const { setting } = this.routeSetting(context);
    if (setting === false) return undefined;
    if (setting === undefined && !TRANSACTIONAL_METHODS.has(context.switchToHttp().getRequest<FastifyRequest>().method)) {
      return undefined;
    }
    return setting?.isolationLevel ? { isolationLevel: setting.isolationLevel as TransactionOptions['isolationLevel'] } : this.defaultOptions;
  }

  private routeSetting(context: ExecutionContext): RouteSetting {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byHandler = this.routeSettings.get(controller);
    if (!byHandler) this.routeSettings.set(controller, (byHandler = new WeakMap()));
    let cached = byHandler.get(handler);
    if (!cached) {
      cached = { setting: this.reflector.getAllAndOverride<TransactionalSetting | undefined>(TRANSACTIONAL_KEY, [handler, controller]) };
      byHandler.set(handler, cached);
    }
    return cached;
  }
}

/**
 * Rolls back the request transaction after a failure, if one was begun (a failed BEGIN left nothing to undo). A
 * rollback that fails is not reported over the error that caused it: the server rolls back a session that ends.
 */
async function rollBack(cause: unknown): Promise<void> {
  const transaction = await begunRequestTransaction()?.catch(() => undefined);
  if (!transaction || (transaction as Transaction & { finished?: string }).finished) return;
  discardIfUnanswered(transaction, cause);
  await transaction.rollback().catch(() => undefined);
}

/**
 * After a query that got no answer (client query_timeout) or a connection that broke, the ROLLBACK would be
 * queued on the same dead socket and wait out a second query timeout. Ending the client first makes that ROLLBACK
 * fail at once (the server rolls back a transaction whose session ends), and the pool's validation drops the
 * connection when Sequelize releases it.
 */
function discardIfUnanswered(transaction: Transaction, error: unknown): void {
  const fault = databaseFault(error);
  if (fault?.kind !== 'no-answer' && fault?.kind !== 'connection-lost') return;
  const client = (transaction as unknown as { connection?: PgClientState }).connection;
  client?.end?.().catch(() => undefined);
}

/**
 * The server's default isolation level, asked once per Sequelize instance: the interceptor has an instance in each
 * module whose controllers bind it (@TransactionalRoutes), and they all share the answer. undefined when unknown.
 */
const serverDefaults = new WeakMap<Sequelize, Promise<string | undefined>>();

function serverDefaultIsolation(sequelize: Sequelize, configured: string, logger: Logger): Promise<string | undefined> {
  let level = serverDefaults.get(sequelize);
  if (!level) {
    level = sequelize
      .query<{ default_transaction_isolation: string }>('SHOW default_transaction_isolation', { type: QueryTypes.SELECT, transaction: null })
      .then(([row]) => row?.default_transaction_isolation.toUpperCase())
      .catch((error: unknown) => {
        logger.warn(`Could not read the server's default isolation level; setting ${configured} on every transaction: ${String(error)}`);
        return undefined;
      });
    serverDefaults.set(sequelize, level);
  }
  return level;
}
