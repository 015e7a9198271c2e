import { Injectable, RequestMethod, type OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { hasRequestTransaction, needsRequestTransaction, routeHandlers } from './transactional-routes.decorator';

/**
 * Refuses to start an application in which a route that needs a request transaction (see
 * transactional-routes.decorator.ts) would run without one: a controller added without `@TransactionalRoutes()`
 * would otherwise write outside any transaction, and nothing else would say so.
 */
@Injectable()
export class TransactionalRoutesCheck implements OnModuleInit {
  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    const missing: string[] = [];
    for (const { metatype } of this.discovery.getControllers()) {
      if (!metatype) continue;
      const controller = metatype as Type;
      for (const { name, handler, method } of routeHandlers(controller)) {
        if (needsRequestTransaction(controller, handler, method) && !hasRequestTransaction(controller, handler)) {
          missing.push(`${controller.name}.${name} (${RequestMethod[method]})`);
        }
      }
    }
    if (missing.length > 0) {
      throw new Error(
        `Routes that need a request transaction run without one: ${missing.join(', ')}. ` +
          'Decorate their controllers with @TransactionalRoutes() (above any class-level @Transactional), ' +
          'or opt a route out with @Transactional(false).',
      );
    }
  }
}
