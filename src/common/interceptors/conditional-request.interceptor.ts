/**
 * Conditional requests on one versioned resource (RFC 9110 §13), bound with `@Conditional()` to its GET, PATCH and
 * DELETE (generated modules get it from their controller template):
 * - a response body marked with its row's tag (common/http/entity-tag.ts) is sent with that `ETag`; a GET whose
 *   If-None-Match names it is answered 304 without a body (common/http/not-modified.ts);
 * - PATCH and DELETE: `If-Match` is handed to the request's transaction, and the repository checks it against the row
 *   it locks, after the access policy has decided: 412 with the current tag when the row has changed, nothing
 *   written. Without If-Match the write goes through, unless REQUIRE_IF_MATCH is set (428).
 * A malformed If-Match or If-None-Match is a 400.
 */
import {
  applyDecorators,
  BadRequestException,
  type CallHandler,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Injectable,
  type NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { map, type Observable } from 'rxjs';
import type { Environment } from '../../config/environment';
import { setWritePrecondition } from '../database/transaction-context';
import { entityTagOf, parseTagCondition } from '../http/entity-tag';

const WRITES = new Set(['PATCH', 'DELETE']);
const TAG_LIST = 'must be * or a comma-separated list of entity tags ("…" or W/"…")';

@Injectable()
export class ConditionalRequestInterceptor implements NestInterceptor {
  private readonly requireIfMatch: boolean;

  constructor(config: ConfigService<Environment, true>) {
    this.requireIfMatch = config.get('REQUIRE_IF_MATCH', { infer: true });
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    if (WRITES.has(request.method)) this.takeIfMatch(request.headers['if-match']);
    else if (request.headers['if-none-match'] !== undefined && !parseTagCondition(request.headers['if-none-match'])) {
      throw new BadRequestException(`If-None-Match ${TAG_LIST}`);
    }
    const reply = http.getResponse<FastifyReply>();
    return next.handle().pipe(
      map((body: unknown) => {
        const tag = entityTagOf(body);
        if (tag) void reply.header('ETag', tag);
        return body;
      }),
    );
  }

  private takeIfMatch(field: string | undefined): void {
    if (field === undefined) {
      if (this.requireIfMatch) {
        throw new HttpException('This server requires If-Match on writes: GET the resource and send its ETag', HttpStatus.PRECONDITION_REQUIRED);
      }
      return;
    }
    const condition = parseTagCondition(field);
    if (!condition) throw new BadRequestException(`If-Match ${TAG_LIST}`);
    setWritePrecondition(condition);
  }
}

/**
 * On the GET, PATCH and DELETE of one versioned resource: ETag, If-None-Match (GET) and If-Match (PATCH, DELETE),
 * documented; the OpenAPI document adds the 304, 412 and 428 answers and the ETag header from these parameters.
 */
export function Conditional(kind: 'read' | 'write'): MethodDecorator {
  const header =
    kind === 'read'
      ? ApiHeader({ name: 'If-None-Match', required: false, description: 'The ETag of the copy the caller holds: 304 without a body when it is still current' })
      : ApiHeader({
          name: 'If-Match',
          required: false,
          description: 'The ETag the change is based on: 412 when the resource has changed since (nothing is written). Required when the server sets REQUIRE_IF_MATCH (428 without it)',
        });
  return applyDecorators(UseInterceptors(ConditionalRequestInterceptor), header);
}
