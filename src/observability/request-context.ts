/**
 * The id of the request a piece of code runs for, for log lines written far from the request (a slow SQL
 * statement). Set by a Fastify onRequest hook only while the slow-query log is on (see http-observer.ts).
 *
 * Cost: an AsyncLocalStorage in use. From Node 24 it lives in the async context frame and costs next to nothing;
 * on Node 22 it turns on promise hooks for every request (see common/database/transaction-context.ts), so
 * SLOW_QUERY_MS=0 is the setting that leaves them off there.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export const requestIds = new AsyncLocalStorage<string>();

export function currentRequestId(): string | undefined {
  return requestIds.getStore();
}
