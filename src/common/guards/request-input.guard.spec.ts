import { BadRequestException, type ExecutionContext } from '@nestjs/common';
import { RequestInputGuard, MAX_BODY_DEPTH, MAX_BODY_FIELDS } from './request-input.guard';

const contextWith = (body: unknown) =>
  ({ getType: () => 'http', switchToHttp: () => ({ getRequest: () => ({ body, url: '/', query: {} }) }) }) as unknown as ExecutionContext;

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = [value];
  return value;
}

describe('RequestInputGuard', () => {
  const guard = new RequestInputGuard();

  it('lets ordinary and empty bodies through', () => {
    expect(guard.canActivate(contextWith(undefined))).toBe(true);
    expect(guard.canActivate(contextWith({ name: 'Ada', email: 'ada@example.com' }))).toBe(true);
    const bulk = { users: Array.from({ length: 1000 }, (_, i) => ({ name: `User ${i}`, email: `u${i}@example.com`, role: 'user' })) };
    expect(guard.canActivate(contextWith(bulk))).toBe(true);
  });

  it.each([null, [], [{ name: 'x' }], 42, 'text', true])('rejects a body that is not a JSON object (%p)', (body) => {
    expect(() => guard.canActivate(contextWith(body))).toThrow(new BadRequestException('Request body must be a JSON object'));
  });

  it('rejects a body with too many fields, counting keys and array items at every level', () => {
    const wide = Object.fromEntries(Array.from({ length: MAX_BODY_FIELDS + 1 }, (_, i) => [`k${i}`, i]));
    expect(() => guard.canActivate(contextWith(wide))).toThrow(new BadRequestException(`Request body has more than ${MAX_BODY_FIELDS} fields`));
    const spread = { a: Array.from({ length: 3000 }, () => 0), b: { c: Array.from({ length: 3000 }, () => 0) } };
    expect(() => guard.canActivate(contextWith(spread))).toThrow(/more than 5000 fields/);
  });

  it('rejects deep nesting without recursing into it', () => {
    expect(guard.canActivate(contextWith({ v: nested(MAX_BODY_DEPTH - 2) }))).toBe(true);
    expect(() => guard.canActivate(contextWith({ v: nested(MAX_BODY_DEPTH) }))).toThrow(/nested more than/);
    expect(() => guard.canActivate(contextWith({ v: nested(100_000) }))).toThrow(/nested more than/);
  });
});
