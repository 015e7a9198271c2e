/**
 * Bounds and cleans what every request sends before anything walks it. A guard, because guards run before the
 * pipes and before the TransactionInterceptor opens a transaction: a refused request costs no BEGIN.
 *
 * - A JSON body is an object, of bounded size and depth. The 1 MiB size limit alone still lets a body hold ~100 000
 *   keys (class-transformer and class-validator then spend seconds on it, answering with a megabyte of messages) or
 *   nest tens of thousands of levels deep (which overflows their recursion: a 500).
 * - No key, in the body or the query, is named like an `Object.prototype` member (`constructor`, `toString`, `__proto__`, …) or `prototype`:
 *   class-validator's whitelist looks keys up in a plain object, where those names are always "known", so
 *   `forbidNonWhitelisted` let them through. They are refused here as any unknown key would be.
 * - No string in the body, key or value, holds a lone UTF-16 surrogate (valid JSON as an escape, but no text).
 * - The query string is valid percent-encoded UTF-8: the parser keeps an undecodable `%FF` as the three characters
 *   `%FF`, which would silently search for or filter by something the client never meant.
 */
import { BadRequestException, CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { LONE_SURROGATE } from '../validation/text';

/** The largest legitimate body (POST /users/bulk: 1000 users of 3 fields) stays well below this. */
export const MAX_BODY_FIELDS = 5_000;
export const MAX_BODY_DEPTH = 8;

// `prototype` too: class-validator's whitelist lets it through as well.
const PROTOTYPE_KEYS = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

@Injectable()
export class RequestInputGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const problem = queryProblem(request) ?? bodyProblem(request.body);
    if (problem) throw new BadRequestException(problem);
    return true;
  }
}

function queryProblem(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  for (const key of Object.keys(query ?? {})) {
    if (PROTOTYPE_KEYS.has(key)) return `property ${key} should not exist`;
  }
  const start = request.url.indexOf('?');
  if (start === -1 || !request.url.includes('%', start)) return undefined;
  for (const part of request.url.slice(start + 1).split(/[&=]/)) {
    try {
      decodeURIComponent(part);
    } catch {
      return 'The query string is not valid percent-encoded UTF-8';
    }
  }
  return undefined;
}

function bodyProblem(body: unknown): string | undefined {
  if (body === undefined) return undefined;
  // Every operation that takes a body takes an object: `null`, `[]` or `42` is a client mistake, not an empty patch.
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'Request body must be a JSON object';
  return measure(body);
}

/** Walks the body iteratively (no recursion to overflow, no copies of its entries) and stops at the first problem. */
function measure(root: object): string | undefined {
  const stack: Array<[value: object, depth: number, path: string]> = [[root, 1, '']];
  let fields = 0;
  while (stack.length > 0) {
    const [value, depth, path] = stack.pop()!;
    if (depth > MAX_BODY_DEPTH) return `Request body is nested more than ${MAX_BODY_DEPTH} levels deep`;
    const items = Array.isArray(value) ? (value as unknown[]) : undefined;
    const keys = items ? undefined : Object.keys(value);
    const count = items ? items.length : keys!.length;
    fields += count;
    if (fields > MAX_BODY_FIELDS) return `Request body has more than ${MAX_BODY_FIELDS} fields`;
    for (let index = 0; index < count; index++) {
      const key = items ? String(index) : keys![index];
      if (!items) {
        // Worded as the ValidationPipe words any unknown key (`posts.0.property authorId should not exist`).
        if (PROTOTYPE_KEYS.has(key)) return `${path}property ${key} should not exist`;
        if (LONE_SURROGATE.test(key)) return `A key in ${path ? path.slice(0, -1) : 'the body'} contains a lone UTF-16 surrogate`;
      }
      const child = items ? items[index] : (value as Record<string, unknown>)[key];
      if (typeof child === 'string') {
        if (LONE_SURROGATE.test(child)) return `${path}${key} must not contain lone UTF-16 surrogates`;
      } else if (child !== null && typeof child === 'object') {
        stack.push([child, depth + 1, `${path}${key}.`]);
      }
    }
  }
  return undefined;
}
