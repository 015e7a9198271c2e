import { Logger, type CallHandler, type ExecutionContext } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import { lastValueFrom, Observable, of, throwError } from 'rxjs';
import type { Sequelize } from 'sequelize-typescript';
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
    switchToHttp: () => ({ getRequest: () => ({ method }) }),
  } as unknown as ExecutionContext;
}

describe('TransactionInterceptor', () => {
  let events: string[];
  let sequelize: { transaction: jest.Mock; query: jest.Mock };
  let interceptor: TransactionInterceptor;

  beforeEach(() => {
    events = [];
    sequelize = {
      // A managed transaction: callback, then commit, or rollback and rethrow.
      transaction: jest.fn(async (_options: unknown, callback: (transaction: unknown) => Promise<unknown>) => {
        events.push('begin');
        try {
          const result = await callback({});
          events.push('commit');
          return result;
        } catch (error) {
          events.push('rollback');
          throw error;
        }
      }),
      query: jest.fn(),
    };
    const config = { get: () => 'READ COMMITTED' } as unknown as ConfigService;
    interceptor = new TransactionInterceptor(sequelize as unknown as Sequelize, new Reflector(), config as never);
  });

  const run = (context: ExecutionContext, handle: () => Observable<unknown> = () => of('body')) =>
    lastValueFrom(interceptor.intercept(context, { handle } as CallHandler), { defaultValue: undefined });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])('wraps %s in a transaction with the configured isolation level', async (method) => {
    await expect(run(httpContext(method, Routes, Routes.prototype.plain))).resolves.toBe('body');
    expect(sequelize.transaction).toHaveBeenCalledWith({ isolationLevel: 'READ COMMITTED' }, expect.any(Function));
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
    expect(sequelize.transaction).toHaveBeenLastCalledWith({ isolationLevel: 'SERIALIZABLE' }, expect.any(Function));
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
        setTimeout(() => {
          events.push('handler done');
          subscriber.next('late body');
          subscriber.complete();
        }, 5);
      });
    const result = await run(httpContext('POST', Routes, Routes.prototype.plain), handle).then((body) => {
      events.push('reply');
      return body;
    });
    expect(result).toBe('late body');
    expect(events).toEqual(['begin', 'handler', 'handler done', 'commit', 'reply']);
  });

  it('commits a handler that completes without a value (204)', async () => {
    await expect(run(httpContext('DELETE', Routes, Routes.prototype.plain), () => of())).resolves.toBeUndefined();
    expect(events).toEqual(['begin', 'commit']);
  });

  it('rolls back on a handler error and rethrows the same error', async () => {
    const failure = new Error('handler failed');
    await expect(run(httpContext('POST', Routes, Routes.prototype.plain), () => throwError(() => failure))).rejects.toBe(failure);
    expect(events).toEqual(['begin', 'rollback']);
  });

  describe('a transaction left aborted by a database error the handler caught', () => {
    const withConnection = (connection: object) =>
      sequelize.transaction.mockImplementationOnce(async (_options: unknown, callback: (transaction: unknown) => Promise<unknown>) => {
        events.push('begin');
        try {
          const result = await callback({ connection });
          events.push('commit');
          return result;
        } catch (error) {
          events.push('rollback');
          throw error;
        }
      });

    it('is rolled back with an error when pg already reports the failed state', async () => {
      withConnection({ getTransactionStatus: () => 'E', readyForQuery: true });
      await expect(run(httpContext('POST', Routes, Routes.prototype.plain))).rejects.toThrow(/aborted/);
      expect(events).toEqual(['begin', 'rollback']);
      expect(sequelize.query).not.toHaveBeenCalled();
    });

    it('is detected with one statement while the failed statement has not settled', async () => {
      withConnection({ getTransactionStatus: () => 'T', readyForQuery: false });
      sequelize.query.mockRejectedValueOnce(Object.assign(new Error('aborted'), { parent: { code: '25P02' } }));
      await expect(run(httpContext('POST', Routes, Routes.prototype.plain))).rejects.toThrow(/caught/);
      expect(events).toEqual(['begin', 'rollback']);
    });

    it('costs no statement when the last one succeeded', async () => {
      withConnection({ getTransactionStatus: () => 'T', readyForQuery: true });
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
      expect(sequelize.transaction).toHaveBeenCalledWith(expected, expect.any(Function));
    });

    it('asks the server once per Sequelize instance, however many modules hold an interceptor', async () => {
      sequelize.query.mockResolvedValue([{ default_transaction_isolation: 'read committed' }]);
      const config = { get: () => 'READ COMMITTED' } as unknown as ConfigService;
      const another = new TransactionInterceptor(sequelize as unknown as Sequelize, new Reflector(), config as never);
      await Promise.all([interceptor.onModuleInit(), another.onModuleInit()]);
      expect(sequelize.query).toHaveBeenCalledTimes(1);
      await lastValueFrom(another.intercept(httpContext('POST', Routes, Routes.prototype.plain), { handle: () => of('body') } as CallHandler));
      expect(sequelize.transaction).toHaveBeenCalledWith({}, expect.any(Function));
    });

    it('keeps the explicit level when the server cannot be asked, and says so', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      sequelize.query.mockRejectedValue(new Error('down'));
      await interceptor.onModuleInit();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('setting READ COMMITTED on every transaction'));
      warn.mockRestore();
      await run(httpContext('POST', Routes, Routes.prototype.plain));
      expect(sequelize.transaction).toHaveBeenCalledWith({ isolationLevel: 'READ COMMITTED' }, expect.any(Function));
    });
  });
});
