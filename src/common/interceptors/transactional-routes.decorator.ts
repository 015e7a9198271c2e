/**
 * Binds the TransactionInterceptor to the routes of a controller that need a request transaction, and to those
 * only: POST, PUT, PATCH, DELETE (and @All) handlers, plus any handler marked `@Transactional()`. A route marked
 * `@Transactional(false)` is left alone.
 *
 * The transaction is the first of each handler's own interceptors, so those run inside it; interceptors bound to
 * the whole controller (`@UseInterceptors` on the class) or globally run outside it, before BEGIN and after COMMIT.
 * Put `@TransactionalRoutes()` above a class-level `@Transactional(…)`: class decorators apply bottom-up, and it must
 * see that setting.
 *
 * Why not one global interceptor: with any interceptor on a route, Nest runs the handler through a chain of
 * Observables; a GET, which never opens a transaction, then pays for it on every request (about 6 % of the
 * throughput of GET /users/:id, bench/README.md). Bound per handler, reads run with no interceptor at all.
 *
 * Every controller with routes that write carries this decorator; TransactionalRoutesCheck fails the start-up
 * naming any mutating route without a transaction, so a controller that lacks it cannot go unnoticed.
 */
import { RequestMethod, type Type } from '@nestjs/common';
import { INTERCEPTORS_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { MetadataScanner } from '@nestjs/core';
import { TransactionInterceptor } from './transaction.interceptor';
import { TRANSACTIONAL_KEY, TRANSACTIONAL_METHODS, type TransactionalSetting } from './transactional.decorator';

interface RouteHandler {
  readonly name: string;
  readonly handler: object;
  readonly method: RequestMethod;
}

const scanner = new MetadataScanner();

/** The route handlers of a controller class: its own and inherited methods that carry an HTTP method. */
export function routeHandlers(controller: Type): RouteHandler[] {
  const prototype = controller.prototype as Record<string, object>;
  return scanner.getAllMethodNames(prototype).flatMap((name) => {
    const handler = prototype[name];
    const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
    return method === undefined ? [] : [{ name, handler, method }];
  });
}

/** Whether a route must run inside a request transaction: its own or its class's `@Transactional`, else its method. */
export function needsRequestTransaction(controller: Type, handler: object, method: RequestMethod): boolean {
  const setting = (Reflect.getMetadata(TRANSACTIONAL_KEY, handler) ?? Reflect.getMetadata(TRANSACTIONAL_KEY, controller)) as
    | TransactionalSetting
    | undefined;
  // An @All route is bound: the interceptor then decides per request, by the request's method.
  if (setting === undefined) return method === RequestMethod.ALL || TRANSACTIONAL_METHODS.has(RequestMethod[method]);
  return setting !== false;
}

/** Whether the TransactionInterceptor runs for this route (bound to the handler or to the whole controller). */
export function hasRequestTransaction(controller: Type, handler: object): boolean {
  const bound = (target: object) => ((Reflect.getMetadata(INTERCEPTORS_METADATA, target) as unknown[] | undefined) ?? []).includes(TransactionInterceptor);
  return bound(handler) || bound(controller);
}

export const TransactionalRoutes = (): ClassDecorator => (target) => {
  const controller = target as unknown as Type;
  for (const { handler, method } of routeHandlers(controller)) {
    if (!needsRequestTransaction(controller, handler, method) || hasRequestTransaction(controller, handler)) continue;
    const own = (Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[] | undefined) ?? [];
    // First in the handler's list: the handler's own interceptors run inside the transaction.
    Reflect.defineMetadata(INTERCEPTORS_METADATA, [TransactionInterceptor, ...own], handler);
  }
};
