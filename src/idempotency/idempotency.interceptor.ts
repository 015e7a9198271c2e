/**
 * Idempotency keys on POST (issue 15; the IETF HTTPAPI draft's `Idempotency-Key`), bound with `@Idempotent()` to the
 * routes that create or restore something (generated modules' create route included). A caller that retries after a
 * timeout sends the same key and gets the first answer instead of a second write:
 *
 * - first use of a key: the request runs; its status and body are stored with the caller, the key, the route and a
 *   SHA-256 of the body, in the request's transaction (a request that fails stores nothing and may be retried);
 * - the same key again with the same route and body: the stored answer, with `Idempotent-Replayed: true`, no write;
 *   with another route or body: 422; while the first request still runs: 409 (the key is claimed for its transaction);
 * - keys live IDEMPOTENCY_KEY_TTL_SECONDS (24 h), then a retry runs anew; IdempotencySweeper deletes expired ones.
 *
 * Keys belong to the authenticated caller; every route that takes one needs a token. Runs inside the request
 * transaction (the TransactionInterceptor is bound to the controller, so it runs first): a request with a key begins
 * its transaction before validation, to claim the key.
 */
import { createHash } from 'node:crypto';
import {
  applyDecorators,
  BadRequestException,
  type CallHandler,
  ConflictException,
  type ExecutionContext,
  HttpStatus,
  Injectable,
  type NestInterceptor,
  UnprocessableEntityException,
  UseInterceptors,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { ConfigService } from '@nestjs/config';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { concatMap, from, type Observable, of, switchMap } from 'rxjs';
import type { Environment } from '../config/environment';
import { IdempotencyRepository } from './idempotency.repository';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
// 1–255 visible ASCII characters.
const KEY = /^[\x21-\x7E]{1,255}$/;

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly ttlMs: number;

  constructor(
    private readonly keys: IdempotencyRepository,
    config: ConfigService<Environment, true>,
  ) {
    this.ttlMs = config.get('IDEMPOTENCY_KEY_TTL_SECONDS', { infer: true }) * 1000;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const key = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (key === undefined) return next.handle();
    if (typeof key !== 'string' || !KEY.test(key)) throw new BadRequestException('Idempotency-Key must be 1–255 visible ASCII characters');
    // Every route that takes a key needs a token (the guard has refused anonymous callers): keys are per caller.
    const actorId = request.actor!.id;
    // The path (bounded by the router's parameter length), not the query string, which these routes do not read.
    const route = `${request.method} ${request.url.split('?', 1)[0]}`;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify(request.body ?? null))
      .digest('hex');
    return from(this.prior(actorId, key, route, fingerprint)).pipe(
      switchMap((prior) => {
        if (prior) {
          void http.getResponse<FastifyReply>().header('Idempotent-Replayed', 'true');
          return of(prior.body);
        }
        const status = (Reflect.getMetadata(HTTP_CODE_METADATA, context.getHandler()) as number | undefined) ?? HttpStatus.CREATED;
        return next.handle().pipe(
          concatMap(async (body: unknown) => {
            // Stored as it will be sent (JSON), so a replay is the same document.
            const stored: unknown = body === undefined ? null : JSON.parse(JSON.stringify(body));
            await this.keys.save({ actorId, key, route, fingerprint, status, body: stored, expiresAt: new Date(Date.now() + this.ttlMs) });
            return body;
          }),
        );
      }),
    );
  }

  /** The stored answer to replay, or null to run the request; 409 while the key is in use, 422 for another request. */
  private async prior(actorId: number, key: string, route: string, fingerprint: string) {
    if (!(await this.keys.claim(actorId, key))) {
      throw new ConflictException('A request with this Idempotency-Key is still being processed: retry after it has finished');
    }
    const stored = await this.keys.findLive(actorId, key);
    if (stored && (stored.route !== route || stored.fingerprint !== fingerprint)) {
      throw new UnprocessableEntityException('This Idempotency-Key was used for a different request: send a new key for a new request');
    }
    return stored;
  }
}

/** On a POST that creates or restores: takes an Idempotency-Key (documented; the OpenAPI document adds 409 and 422). */
export function Idempotent(): MethodDecorator {
  return applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'A key of your choice (1–255 visible ASCII characters) that makes a retry safe: the same key with the same body within 24 h gets the first answer again ' +
        '(with Idempotent-Replayed: true) and writes nothing; with another body, 422; while the first request runs, 409',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' },
    }),
  );
}
