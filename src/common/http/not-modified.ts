/**
 * 304 Not Modified for a GET whose If-None-Match names the representation's current ETag (RFC 9110 §13.1.2, §15.4.5).
 * A Fastify onSend hook, because only there are the final status and headers known: Nest sets the route's status
 * after its interceptors have run. The tag itself is set by the ConditionalRequestInterceptor; responses without one
 * are untouched. A malformed If-None-Match was already refused (400) by that interceptor.
 */
import type { FastifyInstance } from 'fastify';
import { noneMatchFails, parseTagCondition } from './entity-tag';

export function registerNotModified(instance: FastifyInstance): void {
  instance.addHook('onSend', (request, reply, payload, done) => {
    const field = request.headers['if-none-match'];
    if (field === undefined || reply.statusCode !== 200 || (request.method !== 'GET' && request.method !== 'HEAD')) {
      done(null, payload);
      return;
    }
    const tag = reply.getHeader('etag');
    const condition = parseTagCondition(field);
    if (typeof tag === 'string' && condition && noneMatchFails(condition, tag)) {
      // The headers a 200 would carry stay (ETag, Cache-Control); the body and its length go.
      void reply.code(304).removeHeader('content-length').removeHeader('content-type');
      done(null, '');
      return;
    }
    done(null, payload);
  });
}
