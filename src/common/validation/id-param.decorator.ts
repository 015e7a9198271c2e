/**
 * `@IdParam()`: the `:id` path parameter of every route that has one, parsed here instead of by the global
 * ValidationPipe (which skips custom parameter decorators). The DTO round trip it replaces (class-transformer,
 * then class-validator re-filtering its metadata) cost more per request than the SELECT's own JavaScript on
 * GET by id. The rules and the 400 messages are the ones that DTO had: plain decimal digits only (so "0x10",
 * "1e3", " 1" or "1.5" are not coerced), within int4 so that Postgres never sees an out-of-range id, and the
 * same messages in the same order as class-validator produced them.
 */
import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { MAX_ID } from './input-rules';

const INTEGER = /^-?\d+$/;

const TOO_LARGE = `id must not be greater than ${MAX_ID}`;
const TOO_SMALL = 'id must not be less than 1';
const NOT_INTEGER = 'id must be an integer number';

/** The id, or the messages of the 400 that rejects it. */
export function parseId(raw: unknown): number | string[] {
  if (typeof raw !== 'string' || !INTEGER.test(raw)) return [TOO_LARGE, TOO_SMALL, NOT_INTEGER];
  const id = Number(raw);
  if (id < 1) return [TOO_SMALL];
  if (id > MAX_ID) return [TOO_LARGE];
  return id;
}

function idFromRequest(_data: unknown, context: ExecutionContext): number {
  const params = context.switchToHttp().getRequest<{ params?: Record<string, unknown> }>().params;
  const id = parseId(params?.id);
  if (typeof id === 'number') return id;
  throw new BadRequestException(id);
}

/** Documents the parameter on the method the decorated argument belongs to, as the DTO did. */
function documentIdParam(target: object, key: string | symbol | undefined): void {
  if (key === undefined) return;
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (!descriptor) return;
  ApiParam({ name: 'id', required: true, schema: { minimum: 1, maximum: MAX_ID, type: 'integer' } })(target, key, descriptor);
}

export const IdParam = createParamDecorator(idFromRequest, [documentIdParam]);
