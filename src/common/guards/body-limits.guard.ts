/**
 * Bounds the shape of every JSON body before anything walks it: an object, of bounded size and depth. The 1 MiB size limit alone still lets a
 * body hold ~100 000 keys (class-transformer and class-validator then spend seconds on it, answering with a
 * megabyte of messages) or nest tens of thousands of levels deep (which overflows their recursion: a 500).
 * A guard, because guards run before the pipes and before the TransactionInterceptor opens a transaction.
 */
import { BadRequestException, CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** The largest legitimate body (POST /users/bulk: 1000 users of 3 fields) stays well below this. */
export const MAX_BODY_FIELDS = 5_000;
export const MAX_BODY_DEPTH = 8;

@Injectable()
export class BodyLimitsGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const body = context.switchToHttp().getRequest<FastifyRequest>().body;
    if (body === undefined) return true;
    // Every operation that takes a body takes an object: `null`, `[]` or `42` is a client mistake, not an empty patch.
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestException('Request body must be a JSON object');
    const problem = measure(body);
    if (problem) throw new BadRequestException(problem);
    return true;
  }
}

/** Walks the body iteratively (no recursion to overflow) and stops at the first limit crossed. */
function measure(root: object): string | undefined {
  const stack: Array<[value: object, depth: number]> = [[root, 1]];
  let fields = 0;
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (depth > MAX_BODY_DEPTH) return `Request body is nested more than ${MAX_BODY_DEPTH} levels deep`;
    const children = Array.isArray(value) ? value : Object.values(value);
    fields += children.length;
    if (fields > MAX_BODY_FIELDS) return `Request body has more than ${MAX_BODY_FIELDS} fields`;
    for (const child of children) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return undefined;
}
