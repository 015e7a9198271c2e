import { All, Controller, Delete, Get, Head, Injectable, Module, Options, Patch, Post, Put, Search, UseInterceptors, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { Observable } from 'rxjs';
import { TransactionInterceptor } from './transaction.interceptor';
import { TransactionalRoutesCheck } from './transactional-routes.check';
import { TransactionalRoutes } from './transactional-routes.decorator';
import { Transactional } from './transactional.decorator';

@Injectable()
class AuditInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

@TransactionalRoutes()
@Controller('things')
class ThingsController {
  @Get() list(): void {}
  @Head() head(): void {}
  @Options() options(): void {}
  @Get('snapshot') @Transactional({ isolationLevel: 'REPEATABLE READ' }) snapshot(): void {}
  @Post() create(): void {}
  @Put(':id') replace(): void {}
  @Patch(':id') @UseInterceptors(AuditInterceptor) update(): void {}
  @Delete(':id') remove(): void {}
  @Post('import') @Transactional(false) importMany(): void {}
  @All('any') any(): void {}
  @Search('search') search(): void {}
}

class BaseController {
  @Post() create(): void {}
}

@TransactionalRoutes()
@Controller('derived')
class DerivedController extends BaseController {
  @Get() list(): void {}
}

@TransactionalRoutes()
@Transactional(false)
@Controller('opted-out')
class OptedOutController {
  @Post() create(): void {}
  @Post('forced') @Transactional() forced(): void {}
}

const interceptorsOf = (handler: object): unknown[] => (Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[] | undefined) ?? [];

describe('@TransactionalRoutes()', () => {
  const proto = ThingsController.prototype;

  it.each([
    ['POST routes', proto.create],
    ['PUT routes', proto.replace],
    ['DELETE routes', proto.remove],
    ['@All routes', proto.any],
    ['a GET marked @Transactional()', proto.snapshot],
  ])('binds the TransactionInterceptor to %s', (_label, handler) => {
    expect(interceptorsOf(handler)).toEqual([TransactionInterceptor]);
  });

  it.each([
    ['GET routes', proto.list],
    ['HEAD routes', proto.head],
    ['OPTIONS routes', proto.options],
    ['SEARCH routes (not a write method)', proto.search],
    ['a POST marked @Transactional(false)', proto.importMany],
  ])('leaves %s without interceptors', (_label, handler) => {
    expect(interceptorsOf(handler)).toEqual([]);
  });

  it("puts the transaction outside the route's own interceptors", () => {
    expect(interceptorsOf(proto.update)).toEqual([TransactionInterceptor, AuditInterceptor]);
  });

  it('covers inherited routes, and a class-level @Transactional(false) with a method override', () => {
    expect(interceptorsOf(DerivedController.prototype.create)).toEqual([TransactionInterceptor]);
    expect(interceptorsOf(DerivedController.prototype.list)).toEqual([]);
    expect(interceptorsOf(OptedOutController.prototype.create)).toEqual([]);
    expect(interceptorsOf(OptedOutController.prototype.forced)).toEqual([TransactionInterceptor]);
  });

  it('binds once when applied twice', () => {
    TransactionalRoutes()(ThingsController);
    expect(interceptorsOf(proto.create)).toEqual([TransactionInterceptor]);
  });
});

describe('TransactionalRoutesCheck', () => {
  @Controller('forgotten')
  class ForgottenController {
    @Get() list(): void {}
    @Post() create(): void {}
    @Delete(':id') remove(): void {}
    @Post('manual') @Transactional(false) manual(): void {}
  }

  @Controller('reads')
  class ReadOnlyController {
    @Get() list(): void {}
  }

  async function check(...controllers: Array<new () => unknown>): Promise<void> {
    @Module({ imports: [DiscoveryModule], controllers, providers: [TransactionalRoutesCheck] })
    class CheckedModule {}
    const moduleRef = await Test.createTestingModule({ imports: [CheckedModule] })
      .overrideInterceptor(TransactionInterceptor)
      .useValue({ intercept: (_context: ExecutionContext, next: CallHandler) => next.handle() })
      .compile();
    try {
      moduleRef.get(TransactionalRoutesCheck).onModuleInit();
    } finally {
      await moduleRef.close();
    }
  }

  it('refuses mutating routes without a request transaction, naming each', async () => {
    await expect(check(ReadOnlyController, ForgottenController)).rejects.toThrow(
      'Routes that need a request transaction run without one: ForgottenController.create (POST), ForgottenController.remove (DELETE). ' +
        'Decorate their controllers with @TransactionalRoutes() (above any class-level @Transactional), or opt a route out with @Transactional(false).',
    );
  });

  it('accepts decorated controllers and controllers that only read', async () => {
    await expect(check(ReadOnlyController, DerivedController, OptedOutController)).resolves.toBeUndefined();
  });
});
