import { BadRequestException } from '@nestjs/common';
import { Paginator, type PageQuery } from './paginator';
import type { SortOrder } from './sort';

const NEWEST: SortOrder = [
  ['createdAt', 'DESC'],
  ['id', 'DESC'],
];
const query = (extra: Partial<PageQuery> & Record<string, unknown> = {}): PageQuery => ({ limit: 2, offset: 0, ...extra });

/** The cursor a page ending on `last` hands out. */
function cursorOf(pages: Paginator, last: Array<string | number>, q: PageQuery = query(), order = NEWEST, filters?: Record<string, unknown>): string {
  const window = pages.window('posts', q, order, filters);
  const cursor = pages.page([], { rows: [], last }, window).meta.nextCursor;
  if (cursor === null) throw new Error('no cursor');
  return cursor;
}

describe('Paginator', () => {
  const pages = new Paginator('a secret of the deployment, at least 32 bytes long');
  const last = ['2026-01-01T00:00:00.000Z', 9];

  it('an offset page: counted by default, offset in meta, the next cursor when rows follow, null on the last page', () => {
    const window = pages.window('posts', query({ offset: 4 }), NEWEST);
    expect(window).toMatchObject({ order: NEWEST, limit: 2, offset: 4, after: null, withTotal: true });
    expect(pages.page(['a', 'b'], { rows: [], total: 10, last }, window)).toEqual({
      data: ['a', 'b'],
      meta: { total: 10, limit: 2, offset: 4, nextCursor: expect.stringMatching(/^[\w-]+\.[\w-]+$/) },
    });
    expect(pages.page(['a'], { rows: [], total: 10, last: null }, window).meta.nextCursor).toBeNull();
  });

  it('a cursor page starts after the key values of the cursor, uncounted unless withTotal, with no offset in meta', () => {
    const cursor = cursorOf(pages, last);
    const window = pages.window('posts', query({ cursor }), NEWEST);
    expect(window).toMatchObject({ after: last, offset: 0, withTotal: false });
    expect(pages.page([], { rows: [], last: null }, window).meta).toEqual({ limit: 2, nextCursor: null });
    expect(pages.window('posts', query({ cursor, withTotal: true }), NEWEST).withTotal).toBe(true);
  });

  it('the limit may change between pages; the cursor survives it', () => {
    const cursor = cursorOf(pages, last);
    expect(pages.window('posts', query({ cursor, limit: 50 }), NEWEST).after).toEqual(last);
  });

  it('another instance with the same secret accepts the cursor; one with another secret does not', () => {
    const cursor = cursorOf(pages, last);
    expect(new Paginator('a secret of the deployment, at least 32 bytes long').window('posts', query({ cursor }), NEWEST).after).toEqual(last);
    expect(() => new Paginator('another secret, also at least 32 bytes long').window('posts', query({ cursor }), NEWEST)).toThrow(BadRequestException);
  });

  it('without a secret, a random key: cursors of one process only', () => {
    const cursor = cursorOf(new Paginator(undefined), last);
    expect(() => new Paginator(undefined).window('posts', query({ cursor }), NEWEST)).toThrow(BadRequestException);
  });

  it.each([
    ['another list', 'tags', NEWEST, { authorId: 1 }],
    ['another order', 'posts', [['id', 'ASC'], ['createdAt', 'DESC']] as SortOrder, { authorId: 1 }],
    ['another filter value', 'posts', NEWEST, { authorId: 2 }],
    ['another filter', 'posts', NEWEST, { authorId: 1, published: true }],
    ['no filter', 'posts', NEWEST, {}],
  ])('400 for a cursor taken to %s', (_case, list, order, filters) => {
    const cursor = cursorOf(pages, last, query(), NEWEST, { authorId: 1 });
    expect(pages.window('posts', { ...query(), cursor }, NEWEST, { authorId: 1 }).after).toEqual(last);
    expect(() => pages.window(list, { ...query(), cursor }, order, filters)).toThrow(BadRequestException);
  });

  it('a filter left undefined is the same as one not given; what is not a filter (include, limit) does not bind', () => {
    const cursor = cursorOf(pages, last, query({ include: 'author' }), NEWEST, { authorId: 1, published: undefined });
    expect(pages.window('posts', query({ cursor, limit: 7 }), NEWEST, { authorId: 1 }).after).toEqual(last);
  });

  it.each([
    ['an edited payload', (cursor: string) => `${Buffer.from(JSON.stringify(['2030-01-01T00:00:00.000Z', 9])).toString('base64url')}.${cursor.split('.')[1]}`],
    ['an edited MAC', (cursor: string) => `${cursor.split('.')[0]}.${Buffer.alloc(32).toString('base64url')}`],
    ['a short MAC', (cursor: string) => cursor.slice(0, -10)],
    ['no MAC', (cursor: string) => cursor.split('.')[0]],
    ['a third part', (cursor: string) => `${cursor}.x`],
  ])('400 for %s', (_case, tamper) => {
    expect(() => pages.window('posts', query({ cursor: tamper(cursorOf(pages, last)) }), NEWEST)).toThrow(BadRequestException);
  });

  it('400 for an authentic cursor whose values do not fit the order (as after a change of the sort rules)', () => {
    const cursor = cursorOf(pages, [1, 2, 3], query(), [['id', 'DESC']]);
    expect(() => pages.window('posts', query({ cursor }), [['id', 'DESC']])).toThrow(BadRequestException);
  });

  it('an empty page: no rows, no next cursor, a zero total when counted', () => {
    expect(pages.emptyPage(pages.window('posts', query(), NEWEST))).toEqual({ data: [], meta: { total: 0, limit: 2, offset: 0, nextCursor: null } });
  });
});
