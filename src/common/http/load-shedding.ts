/**
 * Load shedding: at most `maxInFlight` requests are worked on at once; one more is answered at once with 503,
 * Retry-After and the API's error body, before routing, guards or any database work. Without it a slow database (a
 * held lock) piles up every request that arrives, each holding memory and a socket, all waiting for the same thing.
 *
 * A request leaves the count when its response closes, whether it was sent in full, failed, or the client went away
 * (the raw response's `close` event fires once in every case), so the count cannot leak.
 * The orchestrator's probes are never shed: liveness must not fail because the service is busy, and readiness says
 * what it says (draining, database) on its own.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { retryAfterSeconds } from './retry-after';

const NEVER_SHED = new Set(['/health', '/health/live', '/health/ready']);

export const SERVER_BUSY_BODY = { statusCode: 503, error: STATUS_CODES[503], message: 'Server busy, retry later' } as const;

export function registerLoadShedding(instance: FastifyInstance, maxInFlight: number): { inFlight(): number } {
  let inFlight = 0;
  instance.addHook('onRequest', (request, reply, done) => {
    const url = request.url;
    const query = url.indexOf('?');
    if (NEVER_SHED.has(query === -1 ? url : url.slice(0, query))) {
      done();
      return;
    }
    if (inFlight >= maxInFlight) {
      // Answered from the hook: done() is not called, so nothing else runs for this request.
      void reply.code(503).header('retry-after', String(retryAfterSeconds())).send(SERVER_BUSY_BODY);
      return;
    }
    inFlight += 1;
    reply.raw.once('close', () => {
      inFlight -= 1;
    });
    done();
  });
  return { inFlight: () => inFlight };
}
