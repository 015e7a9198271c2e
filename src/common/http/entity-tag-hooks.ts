/**
 * The HTTP side of entity tags, as Fastify hooks (no Nest interceptor: the reads they serve stay free of one):
 * - preSerialization: a body marked with its row's tag (withEntityTag) is sent with that `ETag`;
 * - onSend: a GET whose If-None-Match names that tag is answered 304 without a body (RFC 9110 §13.1.2, §15.4.5).
 *   Only there are the final status and headers known (the handler's status included).
 * A malformed If-None-Match was refused (400) by the ConditionalRequestGuard before the handler ran.
 */
import type { FastifyInstance } from 'fastify';
import { entityTagOf, noneMatchFails, parseTagCondition } from './entity-tag';

export function registerEntityTagHooks(instance: FastifyInstance): void {
  instance.addHook('preSerialization', (_request, reply, payload, done) => {
    const tag = entityTagOf(payload);
    if (tag) void reply.header('ETag', tag);
    done(null, payload);
  });

  instance.addHook('onSend', (request, reply, payload, done) => {
    const field = request.headers['if-none-match'];
    if (field === undefined || reply.statusCode !== 200 || (request.method !== 'GET' && request.method !== 'HEAD')) {
      done(null, payload);
      return;
    }
    const tag = reply.getHeader('etag');
    const condition = parseTagCondition(field);
    if (typeof tag === 'string' && condition && noneMatchFails(condition, tag)) {
      // The headers a 200 would carry stay (ETag, Cache-Control); the body and its length go (a null payload: Fastify
      // then sends no Content-Length, which a 304 must not carry, RFC 9110 §8.6).
      void reply.code(304).removeHeader('content-length').removeHeader('content-type');
      done(null, null);
      return;
    }
    done(null, payload);
  });
}
