/**
 * Conditional requests on one versioned resource (RFC 9110 §13), bound with `@Conditional()` to its GET, PUT, PATCH and
 * DELETE (generated modules get it from their controller template). A guard, not an interceptor: it only reads
 * headers, and runs after authentication (401 first).
 * - GET: a malformed If-None-Match is a 400. The ETag and the 304 are Fastify hooks (common/http/entity-tag-hooks.ts).
 * - PUT, PATCH and DELETE: a malformed If-Match is a 400; without one, 428 when REQUIRE_IF_MATCH is set. A valid one is
 *   kept on the request; the TransactionInterceptor hands it to the transaction, and the repository checks it against
 *   the row it locks, after the access policy has decided (412 with the current tag when the row has changed).
 */
import { applyDecorators, BadRequestException, type CanActivate, type ExecutionContext, HttpException, HttpStatus, Injectable, UseGuards } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { Environment } from '../../config/environment';
import { parseTagCondition, type TagCondition } from '../http/entity-tag';

declare module 'fastify' {
  interface FastifyRequest {
    /** The If-Match condition of a conditional write, for the repository to check. */
    ifMatch?: TagCondition;
  }
}

const WRITES = new Set(['PUT', 'PATCH', 'DELETE']);
const TAG_LIST = 'must be * or a comma-separated list of entity tags ("…" or W/"…")';

@Injectable()
export class ConditionalRequestGuard implements CanActivate {
  private readonly requireIfMatch: boolean;

  constructor(config: ConfigService<Environment, true>) {
    this.requireIfMatch = config.get('REQUIRE_IF_MATCH', { infer: true });
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (WRITES.has(request.method)) {
      const field = request.headers['if-match'];
      if (field === undefined) {
        if (this.requireIfMatch) {
          throw new HttpException('This server requires If-Match on writes: GET the resource and send its ETag', HttpStatus.PRECONDITION_REQUIRED);
        }
        return true;
      }
      const condition = parseTagCondition(field);
      if (!condition) throw new BadRequestException(`If-Match ${TAG_LIST}`);
      request.ifMatch = condition;
      return true;
    }
    const noneMatch = request.headers['if-none-match'];
    if (noneMatch !== undefined && !parseTagCondition(noneMatch)) throw new BadRequestException(`If-None-Match ${TAG_LIST}`);
    return true;
  }
}

/**
 * On the GET (`read`), PUT, PATCH and DELETE (`write`) of one versioned resource: the conditional headers, checked and
 * documented; the OpenAPI document adds the 304, 412 and 428 answers and the ETag header from these parameters.
 * `untagged`: a write to what has no entity tag (a tag, a post's set of tags): If-Match can only be `*`, which the
 * document states as the header's one value (and then promises no ETag).
 */
export function Conditional(kind: 'read' | 'write', options: { untagged?: boolean } = {}): MethodDecorator {
  const required = ' Required when the server sets REQUIRE_IF_MATCH (428 without it)';
  const header =
    kind === 'read'
      ? ApiHeader({ name: 'If-None-Match', required: false, description: 'The ETag of the copy the caller holds: 304 without a body when it is still current' })
      : options.untagged
        ? ApiHeader({
            name: 'If-Match',
            required: false,
            schema: { type: 'string', enum: ['*'] },
            description: `Only * (the resource exists): it has no entity tag, so any other value is a 412 (nothing is written).${required}`,
          })
        : ApiHeader({
            name: 'If-Match',
            required: false,
            description: `The ETag the change is based on: 412 when the resource has changed since (nothing is written).${required}`,
          });
  return applyDecorators(UseGuards(ConditionalRequestGuard), header);
}
