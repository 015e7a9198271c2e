import { SetMetadata } from '@nestjs/common';
import type { IsolationLevelName } from '../../config/environment';

export const TRANSACTIONAL_KEY = 'app:transactional';

/** The HTTP methods that run in a request transaction unless a route says otherwise. */
export const TRANSACTIONAL_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface TransactionalOptions {
  /** Overrides DB_ISOLATION_LEVEL for this route. */
  readonly isolationLevel?: IsolationLevelName;
}

export type TransactionalSetting = false | TransactionalOptions;

/**
 * Overrides the TransactionInterceptor's default (a transaction for POST, PUT, PATCH and DELETE only).
 * `@Transactional()` forces one (e.g. a GET that needs a consistent snapshot, with `{ isolationLevel }`);
 * `@Transactional(false)` opts a route out (it must then manage its own transactions, if any).
 * On a controller class it applies to every route; a method's own setting wins.
 */
export const Transactional = (setting: boolean | TransactionalOptions = true): ClassDecorator & MethodDecorator =>
  SetMetadata<string, TransactionalSetting>(TRANSACTIONAL_KEY, setting === true ? {} : setting);
