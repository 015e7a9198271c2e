import { Sequelize } from 'sequelize';
import {
  AsyncLocalNamespace,
  beginPendingTransaction,
  begunRequestTransaction,
  currentAuditContext,
  currentTransaction,
  enableRequestTransactions,
  inTransaction,
  openRequestTransaction,
  transactionNamespace,
} from './transaction-context';

describe('AsyncLocalNamespace', () => {
  const ns = new AsyncLocalNamespace();

  it('has no values outside run() and refuses to set one there', () => {
    expect(ns.get('transaction')).toBeUndefined();
    expect(() => ns.set('transaction', 1)).toThrow(/outside namespace.run/);
  });

  it('carries a value set in run() across awaits and timers started inside it', async () => {
    const seen = await ns.run(async () => {
      ns.set('transaction', 'tx');
      await new Promise((resolve) => setTimeout(resolve, 1));
      return new Promise((resolve) => setImmediate(() => resolve(ns.get('transaction'))));
    });
    expect(seen).toBe('tx');
    expect(ns.get('transaction')).toBeUndefined();
  });

  it('gives a nested run() the outer values, and keeps what it sets to itself', async () => {
    await ns.run(async () => {
      ns.set('transaction', 'outer');
      await ns.run(async () => {
        expect(ns.get('transaction')).toBe('outer');
        ns.set('transaction', 'inner');
        expect(ns.get('transaction')).toBe('inner');
      });
      expect(ns.get('transaction')).toBe('outer');
    });
  });

  it('keeps concurrent runs apart', async () => {
    const results = await Promise.all(
      ['a', 'b', 'c'].map((value) =>
        ns.run(async () => {
          ns.set('transaction', value);
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
          return ns.get('transaction');
        }),
      ),
    );
    expect(results).toEqual(['a', 'b', 'c']);
  });

  it('shares the store with continuations, so a value cleared later is cleared for them too', async () => {
    let later: Promise<unknown> | undefined;
    // Another run in flight keeps tracking on, so the continuation reads the shared store itself.
    const other = ns.run(() => new Promise((resolve) => setTimeout(resolve, 20)));
    ns.run(() => {
      ns.set('transaction', 'tx');
      later = new Promise((resolve) => setTimeout(() => resolve(ns.get('transaction')), 5));
      ns.set('transaction', null);
    });
    await expect(later).resolves.toBeNull();
    await other;
  });

  // What a continuation that outlives its run sees differs by line: on Node 22 the disabled storage answers
  // undefined; from Node 24 (AsyncContextFrame) it keeps the store it started with, which Sequelize has emptied by
  // then (it sets `transaction` to null on commit and rollback). Either way: no transaction.
  it('switches tracking off once every run has settled, and a continuation then sees no transaction', async () => {
    let later: Promise<unknown> | undefined;
    const running = ns.run(async () => {
      ns.set('transaction', 'tx');
      later = new Promise((resolve) => setTimeout(() => resolve(ns.get('transaction')), 10));
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(ns.tracking).toBe(true);
      const seen = ns.get('transaction');
      ns.set('transaction', null);
      return seen;
    });
    await expect(running).resolves.toBe('tx');
    expect(ns.tracking).toBe(false);
    await expect(later).resolves.toBeFalsy();
    expect(ns.get('transaction')).toBeUndefined();
  });

  it('switches tracking off after a run that throws or rejects', async () => {
    expect(() =>
      ns.run(() => {
        throw new Error('sync');
      }),
    ).toThrow('sync');
    await expect(ns.run(async () => Promise.reject(new Error('async')))).rejects.toThrow('async');
    expect(ns.tracking).toBe(false);
  });

  it('bind() runs a function in the context it was bound in', () => {
    const bound = ns.run(() => {
      ns.set('transaction', 'bound');
      return ns.bind(() => ns.get('transaction'));
    });
    expect(bound()).toBe('bound');
  });
});

describe('enableRequestTransactions', () => {
  it('installs the namespace with Sequelize.useCLS, once', () => {
    const useCLS = jest.spyOn(Sequelize, 'useCLS');
    try {
      enableRequestTransactions();
      enableRequestTransactions();
      expect(useCLS).toHaveBeenCalledTimes(1);
      expect(useCLS).toHaveBeenCalledWith(transactionNamespace);
    } finally {
      useCLS.mockRestore();
    }
  });
});

describe('inTransaction', () => {
  const transaction = jest.fn(async (..._args: unknown[]) => 'result');
  // Stands in for a Sequelize instance, so that the options its transaction() receives can be inspected.
  const instance = { transaction } as unknown as Sequelize;

  beforeEach(() => transaction.mockClear());

  const inRequest = <T>(current: unknown, fn: () => T): T =>
    transactionNamespace.run(() => {
      transactionNamespace.set('transaction', current);
      return fn();
    });

  it('outside a request, opens a transaction of its own', async () => {
    const work = async () => 1;
    await expect(inTransaction(instance, work)).resolves.toBe('result');
    expect(transaction).toHaveBeenCalledWith({}, work);
  });

  it('inside a request, makes the current transaction the parent (a savepoint)', async () => {
    const outer = { sequelize: instance };
    const work = async () => 1;
    await inRequest(outer, () => inTransaction(instance, work));
    expect(transaction).toHaveBeenCalledWith({ transaction: outer }, work);
    expect(currentTransaction()).toBeUndefined();
  });

  it('ignores a finished transaction and one of another Sequelize instance', async () => {
    await inRequest({ sequelize: instance, finished: 'commit' }, () => inTransaction(instance, async () => 1));
    await inRequest({ sequelize: {} }, () => inTransaction(instance, async () => 1));
    expect(transaction.mock.calls.map(([options]) => options)).toEqual([{}, {}]);
  });
});

describe('a request transaction, begun by its first statement', () => {
  const begun = { sequelize: null as unknown, finished: undefined as string | undefined };
  const transaction = jest.fn(async (..._args: unknown[]) => begun);
  const instance = { transaction } as unknown as Sequelize;
  const audit = { actorId: 7, requestId: 'req-7' };

  beforeEach(() => {
    transaction.mockClear();
    begun.sequelize = instance;
    begun.finished = undefined;
  });

  it('is pending until a repository begins it: a query made before then fails instead of running outside it', async () => {
    await openRequestTransaction(instance, { isolationLevel: 'SERIALIZABLE' as never }, { audit }, async () => {
      expect(() => transactionNamespace.get('transaction')).toThrow(/before the request transaction began/);
      expect(currentTransaction()).toBeUndefined();
      expect(begunRequestTransaction()).toBeUndefined();
      expect(transaction).not.toHaveBeenCalled();
      await beginPendingTransaction();
      expect(transaction).toHaveBeenCalledWith({ isolationLevel: 'SERIALIZABLE' });
      expect(transactionNamespace.get('transaction')).toBe(begun);
      expect(currentTransaction()).toBe(begun);
      await expect(begunRequestTransaction()).resolves.toBe(begun);
    });
  });

  it('is begun once for concurrent statements, and seen from every child context of the request', async () => {
    await openRequestTransaction(instance, {}, { audit }, async () => {
      const child = transactionNamespace.run(async () => {
        await beginPendingTransaction();
        return transactionNamespace.get('transaction');
      });
      await Promise.all([beginPendingTransaction(), beginPendingTransaction()]);
      expect(await child).toBe(begun);
      expect(transactionNamespace.get('transaction')).toBe(begun);
    });
    expect(transaction).toHaveBeenCalledTimes(1);
  });

  it('is no longer handed out once finished (a continuation that outlives the request runs without it)', async () => {
    await openRequestTransaction(instance, {}, { audit }, async () => {
      await beginPendingTransaction();
      begun.finished = 'commit';
      expect(transactionNamespace.get('transaction')).toBeNull();
      expect(currentTransaction()).toBeUndefined();
    });
  });

  it('carries who acts and for which request; outside a request, nobody', async () => {
    await openRequestTransaction(instance, {}, { audit }, async () => expect(currentAuditContext()).toEqual(audit));
    expect(currentAuditContext()).toEqual({ actorId: null, requestId: null });
    expect(beginPendingTransaction()).toBeUndefined();
  });

  it('inTransaction begins the pending transaction first, then nests in it', async () => {
    await openRequestTransaction(instance, {}, { audit }, () => inTransaction(instance, async () => 1));
    expect(transaction.mock.calls).toEqual([[{}], [{ transaction: begun }, expect.any(Function)]]);
  });
});

describe('a request transaction whose BEGIN fails', () => {
  it('fails with the database error, and Sequelize\'s cleanup finds no current transaction (so it releases the connection)', async () => {
    const seenByCleanup: unknown[] = [];
    const refused = new Error('BEGIN failed');
    // As Sequelize 6 does: a failed BEGIN is rolled back, and cleanup asks the namespace for the current transaction.
    const transaction = jest.fn(async () => {
      seenByCleanup.push(transactionNamespace.get('transaction'));
      throw refused;
    });
    const instance = { transaction } as unknown as Sequelize;
    await openRequestTransaction(instance, {}, { audit: { actorId: 1, requestId: 'r' } }, async () => {
      await expect(beginPendingTransaction()).rejects.toBe(refused);
      await expect(begunRequestTransaction()).rejects.toBe(refused);
    });
    expect(seenByCleanup).toEqual([null]);
  });
});
