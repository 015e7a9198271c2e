import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { DEFAULT_LIMIT, ListQueryDto, MAX_CURSOR_LENGTH, MAX_OFFSET } from './list-query.dto';

class ThingsQueryDto extends ListQueryDto(['id', 'title', 'createdAt'] as const) {}

/** What the global ValidationPipe does with a query (transform, then validate with whitelist). */
function parse<T extends object>(cls: new () => T, query: Record<string, unknown>): { value: T; errors: string[] } {
  const value = plainToInstance(cls, query);
  const errors = validateSync(value, { whitelist: true, forbidNonWhitelisted: true }).flatMap((error) =>
    Object.values(error.constraints ?? {}),
  );
  return { value, errors };
}

describe('ListQueryDto', () => {
  it('defaults to limit 20, offset 0, sort -createdAt', () => {
    const { value, errors } = parse(ThingsQueryDto, {});
    expect(errors).toEqual([]);
    expect(value).toMatchObject({ limit: DEFAULT_LIMIT, offset: 0, sort: '-createdAt' });
  });

  it('turns digit strings into numbers', () => {
    const { value, errors } = parse(ThingsQueryDto, { limit: '100', offset: '0042', sort: 'title,-id' });
    expect(errors).toEqual([]);
    expect(value).toMatchObject({ limit: 100, offset: 42, sort: 'title,-id' });
  });

  it.each([
    { limit: '0' },
    { limit: '101' },
    { limit: '' },
    { limit: ' 5' },
    { limit: '1e2' },
    { limit: '0x10' },
    { limit: '2.0' },
    { limit: ['1', '2'] },
    { limit: '9'.repeat(400) },
    { offset: '-1' },
    { offset: String(MAX_OFFSET + 1) },
    { offset: '5', cursor: 'abc.def' },
    { cursor: '' },
    { cursor: 'abc' },
    { cursor: 'a+b.c' },
    { cursor: 'a.b.c' },
    { cursor: ['a.b', 'a.b'] },
    { cursor: `a.${'b'.repeat(MAX_CURSOR_LENGTH)}` },
    { withTotal: 'yes' },
    { withTotal: '1' },
    { sort: 'body' },
    { sort: ['title', 'id'] },
    { sort: 'title,title' },
    { sort: 'x'.repeat(101) },
    { unknown: '1' },
  ])('rejects %j', (query) => {
    expect(parse(ThingsQueryDto, query).errors).not.toEqual([]);
  });

  it('takes a cursor of base64url parts, with offset 0 or none, and withTotal as a boolean', () => {
    const { value, errors } = parse(ThingsQueryDto, { cursor: 'eyJ4IjoxfQ.q-_Z9', offset: '0', withTotal: 'false' });
    expect(errors).toEqual([]);
    expect(value).toMatchObject({ cursor: 'eyJ4IjoxfQ.q-_Z9', offset: 0, withTotal: false });
    expect(parse(ThingsQueryDto, {}).value.withTotal).toBeUndefined();
  });

  it('says how to page deeper than the offset bound', () => {
    expect(parse(ThingsQueryDto, { offset: String(MAX_OFFSET + 1) }).errors.join()).toMatch(/nextCursor/);
  });

  it('names the allowed fields when the sort is wrong', () => {
    expect(parse(ThingsQueryDto, { sort: 'nope' }).errors.join()).toMatch(/id, title, createdAt/);
  });
});
