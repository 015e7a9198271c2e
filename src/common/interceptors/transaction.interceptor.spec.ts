import { Logger, type CallHandler, type ExecutionContext } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import { defer, lastValueFrom, Observable, of, throwError } from 'rxjs';
import type { Sequelize } from 'sequelize-typescript';
import { beginPendingTransaction } from '../database/transaction-context';
import { TransactionInterceptor } from './transaction.interceptor';
import { Transactional } from './transactional.decorator';

class Routes {
  plain(): void {}

  @Transactional(false)
  optedOut(): void {}

  @Transactional()
  optedIn(): void {}

  @Transactional({ isolationLevel: 'SERIALIZABLE' })
  serializable(): void {}
}

@Transactional(false)
class OptedOutController {
  plain(): void {}

  @Transactional()
  optedIn(): void {}
}

function httpContext(method: string, controller: object, handler: (...args: unknown[]) => unknown): ExecutionContext {
  return {
    getType: () => 'http',
    getClass: () => controller,
    getHandler: () => handler,
    switchToHttp: () => ({ getRequest: () => ({ method, id: 'req-1' }) }),
  } as unknown as ExecutionContext;
}

/** A handler that makes one statement (through a repository, which begins the pending transaction), then answers. */
const touching = (body: unknown = 'body') => () => defer(async () => {
  await beginPendingTransaction();
  return body;
});

describe('TransactionInterceptor', () => {
  let events: string[];
  let sequelize: { transaction: jest.Mock; query: jest.Mock };
  let connection: object;
  let interceptor: TransactionInterceptor;
  const recentWriters = { wrote: jest.fn(async () => undefined) };

  beforeEach(() => {
    events = [];
    connection = {};
    sequelize = {
      // Unmanaged: BEGIN, then the interceptor commits or rolls back.
      transaction: jest.fn(async () => {
        events.push('begin');
        return {
          connection,
          commit: jest.fn(async () => void events.push('commit')),
          rollback: jest.fn(async () => void events.push('rollback')),
        };
      }),
      query: jest.fn(),
    };
    const config = { get: () => 'READ COMMITTED' } as unknown as ConfigService;
    interceptor = new TransactionInterceptor(sequelize as unknown as Sequelize, new Reflector(), config as never, recentWriters as never);
  });

  const run = (context: ExecutionContext, handle: () => Observable<unknown> = touching()) =>
    lastValueFrom(interceptor.intercept(context, { handle } as CallHandler), { defaultValue: undefined });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])('wraps %s in a transaction with the configured isolation level', async (method) => {
    await expect(run(httpContext(method, Routes, Routes.prototype.plain))).resolves.toBe('body');
    expect(sequelize.transaction).toHaveBeenCalledWith({ isolationLevel: 'READ COMMITTED' });
    expect(events).toEqual(['begin', 'commit']);
  });

  it('begins nothing for a request that makes no statement (refused by validation or policy): no BEGIN, no COMMIT', async () => {
    await expect(run(httpContext('POST', Routes, Routes.prototype.plain), () => of('body'))).resolves.toBe('body');
    await expect(run(httpContext('POST', Routes, Routes.prototype.plain), () => throwError(() => new Error('400')))).rejects.toThrow('400');
    expect(sequelize.transaction).not.toHaveBeenCalled();
  });

  it('shares one BEGIN between statements started together', async () => {
    const handle = () => defer(async () => Promise.all([beginPendingTransaction(), beginPendingTransaction(), beginPendingTransaction()]));
    await run(httpContext('POST', Routes, Routes.prototype.plain), handle);
    expect(sequelize.transaction).toHaveBeenCalledTimes(1);
    expect(events).toEqual(['begin', 'commit']);
  });

  it.each(['GET', 'HEAD', 'OPTIONS'])('runs %s without one', async (method) => {
    await expect(run(httpContext(method, Routes, Routes.prototype.plain))).resolves.toBe('body');
    expect(sequelize.transaction).not.toHaveBeenCalled();
  });

  it('honours @Transactional on methods, on classes, and a method over its class', async () => {
    await run(httpContext('POST', Routes, Routes.prototype.optedOut));
    await run(httpContext('POST', OptedOutController, OptedOutController.prototype.plain));
    expect(sequelize.transaction).not.toHaveBeenCalled();
    await run(httpContext('GET', Routes, Routes.prototype.optedIn));
    await run(httpContext('GET', OptedOutController, OptedOutController.prototype.optedIn));
    expect(sequelize.transaction).toHaveBeenCalledTimes(2);
    await run(httpContext('POST', Routes, Routes.prototype.serializable));
    expect(sequelize.transaction).toHaveBeenLastCalledWith({ isolationLevel: 'SERIALIZABLE' });
  });

  it('leaves non-HTTP contexts alone', async () => {
    const context = { ...httpContext('POST', Routes, Routes.prototype.plain), getType: () => 'rpc' } as ExecutionContext;
    await run(context);
    expect(sequelize.transaction).not.toHaveBeenCalled();
  });

  it('runs the handler inside the transaction and emits its result only after the commit', async () => {
    const handle = () =>
      new Observable<string>((subscriber) => {
        events.push('handler');
        void beginPendingTransaction()!.then(() =>
          setTimeout(() => {
            events.push('handler done');
            subscriber.next('late body');
            subscriber.complete();
          }, 5),
        );
      });
    const result = await run(httpContext('POST', Routes, Routes.prototype.plain), handle).then((body) => {
      events.push('reply');
      return body;
    });
    expect(result).toBe('late body');
    expect(events).toEqual(['handler', 'begin', 'handler done', 'commit', 'reply']);
  });

  it('commits a handler that completes without a value (204)', async () => {
    const silent = () => new Observable<never>((subscriber) => void beginPendingTransaction()!.then(() => subscriber.complete()));
    await expect(run(httpContext('DELETE', Routes, Routes.prototype.plain), silent)).resolves.toBeUndefined();
    expect(events).toEqual(['begin', 'commit']);
  });

  it('rolls back on a handler error after a statement and rethrows the same error', async () => {
    const failure = new Error('handler failed');
    const handle = () => defer(async () => {
      await beginPendingTransaction();
      throw failure;
    });
    await expect(run(httpContext('POST', Routes, Routes.prototype.plain), handle)).rejects.toBe(failure);
    expect(events).toEqual(['begin', 'rollback']);
  });

  it('passes a failed BEGIN on as the handler\'s error, with nothing to roll back', async () => {
    const refused = new Error('connection refused');
    sequelize.transaction.mockRejectedValueOnce(refused);
    await expect(run(httpContext('POST', Routes, Routes.prototype.plain))).rejects.toBe(refused);
    expect(events).toEqual([]);
  });

  describe('a transaction left aborted by a database error the handler caught', () => {
    it('is rolled back with an error when pg already reports the failed state', async () => {
      connection = { getTransactionStatus: () => 'E', readyForQuery: true };
      await expect(run(httpContext('POST', Routes, Routes.prototype.plain))).rejects.toThrow(/aborted/);
      expect(events).toEqual(['begin', 'rollback']);
      expect(sequelize.query).not.toHaveBeenCalled();
    });

    it('is detected with one statement while the failed statement has not settled', async () => {
      connection = { getTransactionStatus: () => 'T', readyForQuery: false };
      sequelize.query.mockRejectedValueOnce(Object.assign(new Error('aborted'), { parent: { code: '25P02' } }));
      await expect(run(httpContext('POST', Routes, Routes.prototype.plain))).rejects.toThrow(/caught/);
      expect(events).toEqual(['begin', 'rollback']);
    });

    it('costs no statement when the last one succeeded', async () => {
      connection = { getTransactionStatus: () => 'T', readyForQuery: true };
      await expect(run(httpContext('POST', Routes, Routes.prototype.plain))).resolves.toBe('body');
      expect(events).toEqual(['begin', 'commit']);
      expect(sequelize.query).not.toHaveBeenCalled();
    });
  });

  describe('onModuleInit', () => {
    it.each([
      ['read committed', {}],
      ['serializable', { isolationLevel: 'READ COMMITTED' }],
    ])('server default %s → opens transactions with %j', async (serverDefault, expected) => {
      sequelize.query.mockResolvedValue([{ default_transaction_isolation: serverDefault }]);
      await interceptor.onModuleInit();
      await run(httpContext('POST', Routes, Routes.prototype.plain));
      expect(sequelize.transaction).toHaveBeenCalledWith(expected);
    });

    it('asks the server once per Sequelize instance, however many modules hold an interceptor', async () => {
      sequelize.query.mockResolvedValue([{ default_transaction_isolation: 'read committed' }]);
      const config = { get: () => 'READ COMMITTED' } as unknown as ConfigService;
      const another = new TransactionInterceptor(sequelize as unknown as Sequelize, new Reflector(), config as never, recentWriters as never);
      await Promise.all([interceptor.onModuleInit(), another.onModuleInit()]);
      expect(sequelize.query).toHaveBeenCalledTimes(1);
      await lastValueFrom(another.intercept(httpContext('POST', Routes, Routes.prototype.plain), { handle: touching() } as CallHandler));
      expect(sequelize.transaction).toHaveBeenCalledWith({});
    });

    it('keeps the explicit level when the server cannot be asked, and says so', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      sequelize.query.mockRejectedValue(new Error('down'));
      await interceptor.onModuleInit();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('setting READ COMMITTED on every transaction'));
      warn.mockRestore();
      await run(httpContext('POST', Routes, Routes.prototype.plain));
      expect(sequelize.transaction).toHaveBeenCalledWith({ isolationLevel: 'READ COMMITTED' });
    });
  });
});
