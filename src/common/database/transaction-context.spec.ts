import { Sequelize } from 'sequelize';
import { AsyncLocalNamespace, currentTransaction, enableRequestTransactions, transactionNamespace } from './transaction-context';

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
  const original = jest.fn(async (..._args: unknown[]) => 'result');
  const instance = {} as Sequelize;
  type Internals = { _cls?: unknown };

  beforeAll(() => {
    // Stands in for Sequelize's own method so that the options it receives can be inspected.
    (Sequelize.prototype as unknown as { transaction: unknown }).transaction = original;
    enableRequestTransactions();
    enableRequestTransactions();
  });

  beforeEach(() => original.mockClear());

  const transaction = (...args: unknown[]) =>
    (Sequelize.prototype as unknown as { transaction: (...a: unknown[]) => Promise<unknown> }).transaction.apply(instance, args);

  const inRequest = <T>(current: unknown, fn: () => T): T =>
    transactionNamespace.run(() => {
      transactionNamespace.set('transaction', current);
      return fn();
    });

  it('installs the namespace on the class from the sequelize package, and wraps transaction() once', async () => {
    expect((Sequelize as unknown as Internals)._cls).toBe(transactionNamespace);
    await transaction({});
    expect(original).toHaveBeenCalledTimes(1);
  });

  it('outside a request, passes the call through unchanged', async () => {
    const callback = async () => 1;
    await transaction(callback);
    expect(original).toHaveBeenCalledWith(undefined, callback);
  });

  it('inside a request, makes the current transaction the parent (a savepoint), keeping the other options', async () => {
    const outer = { sequelize: instance };
    const callback = async () => 1;
    await inRequest(outer, () => transaction({ isolationLevel: 'SERIALIZABLE' }, callback));
    expect(original).toHaveBeenCalledWith({ isolationLevel: 'SERIALIZABLE', transaction: outer }, callback);
    expect(currentTransaction()).toBeUndefined();
  });

  it('leaves an explicit transaction option alone (null = an independent transaction)', async () => {
    const outer = { sequelize: instance };
    await inRequest(outer, () => transaction({ transaction: null }));
    expect(original).toHaveBeenCalledWith({ transaction: null }, undefined);
  });

  it('ignores a finished transaction and one of another Sequelize instance', async () => {
    await inRequest({ sequelize: instance, finished: 'commit' }, () => transaction({}));
    await inRequest({ sequelize: {} }, () => transaction({}));
    expect(original.mock.calls.map(([options]) => options)).toEqual([{}, {}]);
  });
});
