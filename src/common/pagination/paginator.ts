/**
 * The one pagination helper's service half: turns a list query into a page window (offset or keyset) and a
 * repository's rows into the `{ data, meta }` envelope, with the cursor of the next page.
 *
 * A cursor is `<key values>.<MAC>`: the sort key values of the page's last row (base64url JSON) and an HMAC-SHA256 over
 * them and over which list it belongs to (the list's name, its order and the filters that decide its rows). So a cursor
 * cannot be forged or edited, and one taken to another list, sort or filter is refused (400) rather than silently
 * starting somewhere meaningless. What only shapes the rows (include, limit) does not bind it.
 * The key is derived from JWT_SECRET (HKDF, its own label), so every instance of a deployment accepts the others'.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { BadRequestException } from '@nestjs/common';
import type { KeyValues } from './keyset';
import type { Page } from './page.dto';
import type { SortOrder } from './sort';

/** What a list query says about its page (PageQueryDto), plus its filters. */
export interface PageQuery {
  readonly limit: number;
  readonly offset: number;
  readonly cursor?: string;
  readonly withTotal?: boolean;
}

/** Which rows a repository returns: `order`, then `offset` rows skipped or the rows after `after`, `limit` of them. */
export interface PageWindow {
  readonly order: SortOrder;
  readonly limit: number;
  readonly offset: number;
  /** Keyset: the sort key values of the previous page's last row; null on an offset page. */
  readonly after: KeyValues | null;
  /** Whether to count the matching rows (a second statement, and a scan of them all). */
  readonly withTotal: boolean;
  /** What the cursors of this list are bound to. */
  readonly binding: string;
}

/** A repository's answer for a window: the rows, their count when asked for, and whether more rows follow. */
export interface FoundPage<R> {
  readonly rows: R[];
  readonly total?: number;
  /** The sort key values of the last row, when more rows follow it; null on the last page. */
  readonly last: KeyValues | null;
}

const INVALID_CURSOR = 'cursor is not valid for this list: it was altered, or the sort or filters changed since it was issued';

/** Made by PaginationModule (a factory: the secret comes from the configuration). */
export class Paginator {
  private readonly key: Buffer;

  /** `secret`: JWT_SECRET; without one (development, tests) a random key, so cursors end with the process. */
  constructor(secret: string | undefined) {
    const material = secret ? Buffer.from(secret) : randomBytes(32);
    this.key = Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), 'page cursor v1', 32));
  }

  /**
   * The window of `query` in `order` on the list named `list` (its route's resource). `filters`: what decides which
   * rows the list holds (query filters, normalised as the repository matches them, and a parent's id from the path),
   * so a cursor does not carry over to another filter or parent. 400 when the cursor is not one of this list's.
   */
  window(list: string, query: PageQuery, order: SortOrder, filters: Record<string, unknown> = {}): PageWindow {
    const given = Object.entries(filters)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    const binding = JSON.stringify([list, order, given]);
    const after = query.cursor === undefined ? null : this.decode(query.cursor, binding, order.length);
    return {
      order,
      limit: query.limit,
      offset: after ? 0 : query.offset,
      after,
      // Counting reads every matching row: keyset pages, meant for depth, count only when asked.
      withTotal: query.withTotal ?? after === null,
      binding,
    };
  }

  /** The envelope of a page: `data` (the rows as the route renders them) and where the page lies. */
  page<T>(data: T[], found: FoundPage<unknown>, window: PageWindow): Page<T> {
    return {
      data,
      meta: {
        ...(found.total !== undefined && { total: found.total }),
        limit: window.limit,
        ...(window.after === null && { offset: window.offset }),
        nextCursor: found.last === null ? null : this.encode(found.last, window.binding),
      },
    };
  }

  /** The page of a list known to be empty without asking the database (a filter on a tag that does not exist). */
  emptyPage<T>(window: PageWindow): Page<T> {
    return this.page([], { rows: [], total: window.withTotal ? 0 : undefined, last: null }, window);
  }

  private encode(values: KeyValues, binding: string): string {
    const payload = Buffer.from(JSON.stringify(values)).toString('base64url');
    return `${payload}.${this.mac(payload, binding).toString('base64url')}`;
  }

  private decode(cursor: string, binding: string, keys: number): KeyValues {
    const [payload, mac, extra] = cursor.split('.');
    const given = Buffer.from(mac ?? '', 'base64url');
    const expected = this.mac(payload, binding);
    if (extra !== undefined || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new BadRequestException([INVALID_CURSOR]);
    }
    // Authentic, so it is what encode wrote; checked all the same, since a key rotation could make old shapes valid.
    const values: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString());
    if (!Array.isArray(values) || values.length !== keys || !values.every((value) => typeof value === 'string' || typeof value === 'number')) {
      throw new BadRequestException([INVALID_CURSOR]);
    }
    return values as KeyValues;
  }

  private mac(payload: string, binding: string): Buffer {
    return createHmac('sha256', this.key).update(binding).update('\0').update(payload).digest();
  }
}
