/**
 * Request-scoped transaction propagation for Sequelize 6.
 *
 * How a query finds the request's transaction: Sequelize 6 asks the namespace given to `Sequelize.useCLS` for
 * 'transaction' whenever a model method or `sequelize.query` is called without a `transaction` option. We give it a
 * namespace backed by Node's AsyncLocalStorage, so a transaction stored there is visible to every async continuation
 * of the request (or `inTransaction` callback) that stored it, and to nothing else.
 *
 * The request transaction begins late: the TransactionInterceptor runs before Nest's pipes, so it only marks the
 * request as transactional (`openRequestTransaction`), and the first repository statement begins it (`Repository`
 * calls `beginPendingTransaction()`). A request whose body fails validation, or whose actor the policy refuses,
 * never sends BEGIN. A query made while the transaction is pending but not begun (code outside a repository) fails
 * loudly instead of running outside the transaction.
 *
 * What Sequelize 6 does not do is nest: `sequelize.transaction()` inside a transaction opens a second,
 * independent transaction on another pooled connection (a request holding one connection and waiting for a
 * second starves the pool under load). `inTransaction()` passes the current transaction as the parent, which
 * Sequelize turns into a SAVEPOINT on the same connection; a lint rule keeps `sequelize.transaction()` out of
 * services.
 *
 * For module authors: reach tables through repositories, which call models and `sequelize.query` without
 * `{ transaction }`; wrap a step that may fail and be recovered from in `inTransaction(sequelize, async () => …)`
 * (a savepoint) instead of catching a database error and carrying on (PostgreSQL has then aborted the whole
 * transaction; the interceptor answers 500). Do not start work that outlives the request (un-awaited promises,
 * timers) expecting it to be in the transaction, nor run two nested transactions concurrently in one request
 * (savepoints on one connection are a stack). Use `currentTransaction()?.afterCommit(fn)` for side effects that must
 * wait for the commit.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Sequelize, type Transaction, type TransactionOptions } from 'sequelize';
import type { TagCondition } from '../http/entity-tag';

type Store = Map<string, unknown>;

const TRANSACTION = 'transaction';
/** A request transaction not begun yet: its options, then the promise of its BEGIN. */
const PENDING = 'app:pending-transaction';
/** Who the request acts for, for the audit trail. */
const AUDIT_CONTEXT = 'app:audit-context';
/** The request's If-Match (ConditionalRequestGuard), checked by the repository against the row it locks. */
const PRECONDITION = 'app:write-precondition';

interface PendingTransaction {
  readonly sequelize: Sequelize;
  readonly options: TransactionOptions;
  begun?: Promise<Transaction>;
  /** Set once BEGIN has succeeded. Kept here, not in one store: every child context of the request shares it. */
  transaction?: Transaction;
}

/** What the audit trail records about the request that makes a change. */
export interface AuditContext {
  readonly actorId: number | null;
  readonly requestId: string | null;
}

/** Runtime fields of a Sequelize 6 Transaction that its type declarations leave out. */
type TransactionInternals = Transaction & { sequelize: Sequelize; finished?: 'commit' | 'rollback' };

/**
 * The subset of the cls-hooked Namespace API that `Sequelize.useCLS` requires (run, get, set, bind).
 *
 * Tracking is on only while a run() is in flight. On Node 22 an enabled AsyncLocalStorage installs promise hooks
 * that run for every promise of every request (13 % of a GET's CPU on Node 20, measured in bench/README.md), though
 * only requests inside a transaction ever read the store. So the storage is switched off when the last run() settles
 * and back on by the next one: a GET served while no transaction is open pays nothing. While it is off, `get` answers
 * undefined, which callers read as "no transaction", as they read the `null` Sequelize leaves after a commit.
 * From Node 24 the storage lives in the async context frame and costs nothing while unused; switching it off is then
 * harmless, and a continuation that outlives its run keeps the store it started with, which Sequelize has emptied.
 */
export class AsyncLocalNamespace {
  private readonly storage = new AsyncLocalStorage<Store>();
  /** run() calls (and bound calls) not yet settled. */
  private active = 0;

  get(key: string): unknown {
    const store = this.storage.getStore();
    if (!store) return undefined;
    if (key !== TRANSACTION || store.has(TRANSACTION)) return store.get(key);
    const pending = store.get(PENDING) as PendingTransaction | undefined;
    if (!pending) return undefined;
    // After the commit, a continuation that outlives the request runs outside it, as after a managed transaction.
    if (pending.transaction) return (pending.transaction as TransactionInternals).finished ? null : pending.transaction;
    throw new Error('A query ran before the request transaction began: reach the database through a Repository (or await beginPendingTransaction())');
  }

  set<T>(key: string, value: T): T {
    const store = this.storage.getStore();
    if (!store) throw new Error(`No transaction context: cannot set "${key}" outside namespace.run()`);
    store.set(key, value);
    return value;
  }

  /**
   * Runs `fn` in a child context: it sees the values of the current one, and what it sets stays in it.
   * Like cls-hooked, the store is shared by reference with every continuation of `fn`, so when Sequelize
   * clears `transaction` after commit, callbacks that outlive the request stop using the finished transaction.
   */
  run<T>(fn: (store: Store) => T): T {
    const store: Store = new Map(this.storage.getStore());
    return this.within(store, () => fn(store));
  }

  bind<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    const store = this.storage.getStore();
    if (!store) return fn;
    return (...args: A) => this.within(store, () => fn(...args));
  }

  /** Whether AsyncLocalStorage (and with it Node's promise hooks) is switched on. */
  get tracking(): boolean {
    return this.active > 0;
  }

  /** Runs `fn` with `store` current; the storage stays on until `fn`'s result (a promise: once settled). */
  private within<R>(store: Store, fn: () => R): R {
    this.active++;
    let result: R;
    try {
      result = this.storage.run(store, fn);
    } catch (error) {
      this.release();
      throw error;
    }
    if (isThenable(result)) {
      // A handler on the caller's own promise: it still settles, and rejects, for the caller exactly as before.
      result.then(this.release, this.release);
    } else {
      this.release();
    }
    return result;
  }

  private readonly release = (): void => {
    if (--this.active === 0) this.storage.disable();
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

export const transactionNamespace = new AsyncLocalNamespace();

/** The transaction the current request (or managed `sequelize.transaction` callback) runs in, if any. */
export function currentTransaction(): Transaction | undefined {
  const pending = transactionNamespace.get(PENDING) as PendingTransaction | undefined;
  if (pending && !pending.transaction) return undefined;
  const transaction = transactionNamespace.get(TRANSACTION) as TransactionInternals | null | undefined;
  return transaction && !transaction.finished ? transaction : undefined;
}

let installed = false;

/**
 * Installs the namespace, once per process (idempotent). Call it before the Sequelize instance is created:
 * `Sequelize.useCLS` sets a static on the class from the 'sequelize' package, which sequelize-typescript's subclass
 * and every model read at query time.
 */
export function enableRequestTransactions(): void {
  if (installed) return;
  Sequelize.useCLS(transactionNamespace);
  installed = true;
}

/**
 * Runs `work` in a SAVEPOINT of the current transaction (the request's, or an enclosing `inTransaction`), on the
 * same connection; outside any, in a transaction of its own. A failure inside rolls back to the savepoint only, so
 * the caller may catch it and go on. The one way services open a transaction: `sequelize.transaction()` called
 * directly would open an independent one on a second pooled connection.
 */
export async function inTransaction<T>(sequelize: Sequelize, work: (transaction: Transaction) => Promise<T>): Promise<T> {
  await beginPendingTransaction();
  const outer = currentTransaction() as TransactionInternals | undefined;
  // Same instance only: a transaction of another database cannot host a savepoint here.
  return sequelize.transaction(outer?.sequelize === sequelize ? { transaction: outer } : {}, work);
}

/**
 * Runs `work` as a request that writes: statements made through repositories inside it share one transaction, begun
 * by the first of them, and `work`'s caller settles it with `settleRequestTransaction`. Used by the interceptor.
 */
export function openRequestTransaction<T>(
  sequelize: Sequelize,
  options: TransactionOptions,
  context: { audit: AuditContext; ifMatch?: TagCondition },
  work: () => Promise<T>,
): Promise<T> {
  return transactionNamespace.run((store) => {
    store.delete(TRANSACTION);
    store.set(PENDING, { sequelize, options } satisfies PendingTransaction);
    store.set(AUDIT_CONTEXT, context.audit);
    store.set(PRECONDITION, context.ifMatch);
    return work();
  });
}

/**
 * Begins the current request's transaction if it is pending: a no-op outside a transactional request and once it
 * has begun. Concurrent callers share one BEGIN. Repositories call it before each statement.
 */
export function beginPendingTransaction(): Promise<unknown> | undefined {
  const pending = transactionNamespace.get(PENDING) as PendingTransaction | undefined;
  if (!pending) return undefined;
  if (!pending.begun) {
    // Unmanaged: the interceptor commits or rolls back. Run where no transaction is current: when BEGIN fails,
    // Sequelize rolls back and, cleaning up, asks the namespace for the current transaction; the pending store's
    // answer (a throw) would skip the release of the connection, which the pool would never get back.
    const begin = transactionNamespace.run((store) => {
      store.set(TRANSACTION, null);
      return pending.sequelize.transaction(pending.options);
    });
    pending.begun = begin.then((transaction) => (pending.transaction = transaction));
  }
  return pending.begun;
}

/**
 * The request transaction to settle: undefined when the request made no statement (nothing to commit). Rejects
 * when its BEGIN failed (Sequelize has then released the connection itself).
 */
export function begunRequestTransaction(): Promise<Transaction> | undefined {
  return (transactionNamespace.get(PENDING) as PendingTransaction | undefined)?.begun;
}

/** The actor and request of the current change, for audit rows; nulls outside a request (CLI, seeds). */
export function currentAuditContext(): AuditContext {
  return (transactionNamespace.get(AUDIT_CONTEXT) as AuditContext | undefined) ?? { actorId: null, requestId: null };
}

/** The If-Match condition the current write must meet, if the request sent one. */
export function currentWritePrecondition(): TagCondition | undefined {
  return transactionNamespace.get(PRECONDITION) as TagCondition | undefined;
}
