/**
 * Request-scoped transaction propagation for Sequelize 6.
 *
 * How a query finds the request's transaction: Sequelize 6 asks the namespace given to `Sequelize.useCLS` for
 * 'transaction' whenever a model method or `sequelize.query` is called without a `transaction` option. We give it a
 * namespace backed by Node's AsyncLocalStorage, so the transaction that `sequelize.transaction(callback)`
 * stores there is visible to every async continuation started inside the callback, and to nothing else.
 *
 * What Sequelize 6 does not do is nest: `sequelize.transaction()` inside a transaction opens a second,
 * independent transaction on another pooled connection (a request holding one connection and waiting for a
 * second starves the pool under load). `inTransaction()` passes the current transaction as the parent, which
 * Sequelize turns into a SAVEPOINT on the same connection; a lint rule keeps `sequelize.transaction()` out of
 * services.
 *
 * For module authors: call models and `sequelize.query` without `{ transaction }`; wrap a step that may fail and
 * be recovered from in `inTransaction(sequelize, async () => …)` (a savepoint) instead of catching a database error
 * and carrying on (PostgreSQL has then aborted the whole transaction; the interceptor answers 500). Do not start
 * work that outlives the request (un-awaited promises, timers) expecting it to be in the transaction, nor run two
 * nested transactions concurrently in one request (savepoints on one connection are a stack). Use
 * `currentTransaction()?.afterCommit(fn)` for side effects that must wait for the commit.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Sequelize, type Transaction } from 'sequelize';

type Store = Map<string, unknown>;

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
    return this.storage.getStore()?.get(key);
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
  const transaction = transactionNamespace.get('transaction') as TransactionInternals | null | undefined;
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
export function inTransaction<T>(sequelize: Sequelize, work: (transaction: Transaction) => Promise<T>): Promise<T> {
  const outer = currentTransaction() as TransactionInternals | undefined;
  // Same instance only: a transaction of another database cannot host a savepoint here.
  return sequelize.transaction(outer?.sequelize === sequelize ? { transaction: outer } : {}, work);
}
