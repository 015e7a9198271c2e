/**
 * Keyset pagination (issue 15) through real HTTP: `meta.nextCursor` and `cursor` walk a list in the same order as its
 * offset pages, rows written between two fetches never make a page skip or repeat one (offset pages do, shown side by
 * side), a cursor is tamper-evident and bound to its list's sort and filters, `withTotal`, and a cursor page is an index
 * range scan at any depth (EXPLAIN ANALYZE of the statement the app sent).
 */
import { QueryTypes } from 'sequelize';
import { MAX_CURSOR_LENGTH, MAX_OFFSET } from '../src/common/pagination/list-query.dto';
import { createPost, createUser, expectApiError } from './utils/fixtures';
import { afterSessionProbe } from './utils/session-probe';
import { createTestApp, type TestApp } from './utils/test-app';

interface Listed {
  id: number;
  title: string;
  createdAt: string;
}

describe('Keyset pagination (e2e)', () => {
  let t: TestApp;
  let authorId: number;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  /** `count` posts straight into the table, createdAt in groups of three equal instants (ties the id breaks). */
  async function seedPosts(count: number, options: { published?: boolean; start?: string } = {}): Promise<void> {
    await t.sequelize.query(
      `INSERT INTO posts (title, body, published, "authorId", "createdAt", "updatedAt")
       SELECT 'Post ' || lpad(g::text, 6, '0'), 'Body', $2, $3, $4::timestamptz + (g / 3) * interval '1 second', now()
       FROM generate_series(1, $1) AS g`,
      { bind: [count, options.published ?? true, authorId, options.start ?? '2026-01-01T00:00:00Z'], type: QueryTypes.INSERT },
    );
  }

  /** Every page of `path` by cursor: the rows in order, and each page's meta. */
  async function walk(path: string, as?: string | null, from: string | null = null): Promise<{ rows: Listed[]; pages: number; metas: any[] }> {
    const rows: Listed[] = [];
    const metas: any[] = [];
    let cursor = from;
    do {
      const separator = path.includes('?') ? '&' : '?';
      const response: { status: number; body: any } = await t.request('GET', cursor === null ? path : `${path}${separator}cursor=${cursor}`, { as });
      expect(response.status).toBe(200);
      rows.push(...response.body.data);
      metas.push(response.body.meta);
      cursor = response.body.meta.nextCursor;
      expect(metas.length).toBeLessThan(500);
    } while (cursor !== null);
    return { rows, pages: metas.length, metas };
  }

  const ids = (rows: Array<{ id: number }>) => rows.map((row) => row.id);

  describe('walking a list', () => {
    beforeAll(async () => {
      await t.truncate();
      authorId = (await createUser(t)).id;
      await seedPosts(95);
      await seedPosts(10, { published: false });
    });

    it('the cursor pages are the offset pages: same rows, same order, each once; the last page says null', async () => {
      const all = await t.request('GET', '/api/v1/posts?limit=100&offset=0');
      const rest = await t.request('GET', '/api/v1/posts?limit=100&offset=100');
      const byOffset = [...all.body.data, ...rest.body.data];
      expect(byOffset).toHaveLength(105);

      const { rows, pages, metas } = await walk('/api/v1/posts?limit=7');
      expect(ids(rows)).toEqual(ids(byOffset));
      expect(new Set(ids(rows)).size).toBe(105);
      expect(pages).toBe(15);
      expect(metas.at(-1).nextCursor).toBeNull();
      // Only the first page is an offset page (offset 0, counted); the cursor pages carry neither unless asked.
      expect(metas[0]).toEqual({ total: 105, limit: 7, offset: 0, nextCursor: expect.any(String) });
      for (const meta of metas.slice(1)) expect(Object.keys(meta).sort()).toEqual(['limit', 'nextCursor']);
    });

    it.each([
      ['title ascending', 'title'],
      ['mixed directions', 'title,-createdAt'],
      ['createdAt ascending then id descending', 'createdAt,-id'],
      ['updatedAt descending', '-updatedAt'],
      ['id ascending', 'id'],
    ])('any sort walks like its offset pages: %s', async (_case, sort) => {
      const byOffset = await t.request('GET', `/api/v1/posts?limit=100&sort=${sort}&published=true`);
      const { rows } = await walk(`/api/v1/posts?limit=9&sort=${sort}&published=true`);
      expect(ids(rows)).toEqual(ids(byOffset.body.data));
      expect(rows).toHaveLength(95);
    });

    it('an anonymous reader walks the published posts only, as its offset pages show them', async () => {
      const byOffset = await t.request('GET', '/api/v1/posts?limit=100', { as: null });
      const { rows } = await walk('/api/v1/posts?limit=20', null);
      expect(ids(rows)).toEqual(ids(byOffset.body.data));
      expect(rows).toHaveLength(95);
    });

    it('include=author and a filter keep to the same walk', async () => {
      const byOffset = await t.request('GET', `/api/v1/posts?limit=100&include=author&authorId=${authorId}&published=true`);
      const { rows } = await walk(`/api/v1/posts?limit=30&include=author&authorId=${authorId}&published=true`);
      expect(ids(rows)).toEqual(ids(byOffset.body.data));
      expect((rows[0] as any).author.id).toBe(authorId);
    });

    it('the limit may change from page to page', async () => {
      const first = await t.request('GET', '/api/v1/posts?limit=3');
      const second = await t.request('GET', `/api/v1/posts?limit=50&cursor=${first.body.meta.nextCursor}`);
      const byOffset = await t.request('GET', '/api/v1/posts?limit=53');
      expect(ids([...first.body.data, ...second.body.data])).toEqual(ids(byOffset.body.data));
    });

    it('withTotal: a cursor page counts when asked; an offset page unless told not to, then in one statement', async () => {
      const first = await t.request('GET', '/api/v1/posts?limit=5');
      const cursor = first.body.meta.nextCursor;
      expect((await t.request('GET', `/api/v1/posts?limit=5&cursor=${cursor}&withTotal=true`)).body.meta).toEqual({ total: 105, limit: 5, nextCursor: expect.any(String) });
      expect((await t.request('GET', `/api/v1/posts?limit=5&cursor=${cursor}&withTotal=false`)).body.meta).toEqual({ limit: 5, nextCursor: expect.any(String) });

      const counted = await t.captureStatements(() => t.request('GET', '/api/v1/posts?limit=5'));
      const uncounted = await t.captureStatements(() => t.request('GET', '/api/v1/posts?limit=5&withTotal=false'));
      expect(uncounted.result.body.meta).toEqual({ limit: 5, offset: 0, nextCursor: expect.any(String) });
      expect(afterSessionProbe(counted.statements).filter((sql) => /count\(/i.test(sql))).toHaveLength(1);
      expect(afterSessionProbe(uncounted.statements)).toHaveLength(1);
      expect(afterSessionProbe(uncounted.statements)[0]).not.toMatch(/count\(/i);
    });

    it('a list that ends exactly at a page boundary: the last full page says null, not an empty page after it', async () => {
      const { pages, metas, rows } = await walk('/api/v1/posts?limit=35&published=true');
      expect(rows).toHaveLength(95);
      expect(pages).toBe(3);
      const exact = await walk('/api/v1/posts?limit=19&published=true');
      expect(exact.pages).toBe(5);
      expect(exact.metas.at(-1).nextCursor).toBeNull();
      expect(metas.at(-1).nextCursor).toBeNull();
    });

    it('the users list, sorted by name with posts embedded, and the audit trail walk the same way', async () => {
      for (let i = 0; i < 7; i++) await createUser(t, { name: `Walker ${i % 3}` });
      const users = await t.request('GET', '/api/v1/users?limit=100&sort=name&include=posts&postsLimit=1');
      const walkedUsers = await walk('/api/v1/users?limit=2&sort=name&include=posts&postsLimit=1');
      expect(ids(walkedUsers.rows)).toEqual(ids(users.body.data));

      const audit = await t.request('GET', '/api/v1/audit?limit=100');
      const walkedAudit = await walk('/api/v1/audit?limit=3');
      expect(ids(walkedAudit.rows)).toEqual(ids(audit.body.data));
      expect(walkedAudit.rows.length).toBeGreaterThan(7);
    });
  });

  describe('writes between page fetches', () => {
    beforeEach(async () => {
      await t.truncate();
      authorId = (await createUser(t)).id;
      await seedPosts(30);
    });

    /** Between pages 1 and 2: a post created (newest, before the cursor), one of page 2 deleted, one of page 1 too. */
    async function writeBetweenPages(firstPage: Listed[], secondPageFirst: number): Promise<{ created: number; deleted: number[] }> {
      const created = await createPost(t, authorId, { title: 'Written meanwhile', published: true });
      await t.request('DELETE', `/api/v1/posts/${firstPage[0].id}`);
      await t.request('DELETE', `/api/v1/posts/${secondPageFirst}`);
      return { created: created.id, deleted: [firstPage[0].id, secondPageFirst] };
    }

    it('by cursor: every post live throughout is listed exactly once, in order, whatever was written meanwhile', async () => {
      const before = ids((await t.request('GET', '/api/v1/posts?limit=100')).body.data);
      const first = await t.request('GET', '/api/v1/posts?limit=10');
      const { deleted, created } = await writeBetweenPages(first.body.data, before[10]);

      const rest = await walk('/api/v1/posts?limit=10', undefined, first.body.meta.nextCursor);
      const listed = [...ids(first.body.data), ...ids(rest.rows)];
      expect(new Set(listed).size).toBe(listed.length);
      const liveThroughout = before.filter((id) => !deleted.includes(id));
      expect(listed.filter((id) => liveThroughout.includes(id))).toEqual(liveThroughout);
      // The new post sorts before the cursor: it is on no later page, and the deleted one of page 2 is gone.
      expect(ids(rest.rows)).not.toContain(created);
      expect(ids(rest.rows)).not.toContain(deleted[1]);
    });

    it('by offset, the same writes make the next page skip a row (why cursors exist)', async () => {
      const before = ids((await t.request('GET', '/api/v1/posts?limit=100')).body.data);
      const first = await t.request('GET', '/api/v1/posts?limit=10');
      // A deletion on page 1 shifts every later row up by one: offset 10 now starts one row late.
      await t.request('DELETE', `/api/v1/posts/${first.body.data[0].id}`);
      const second = await t.request('GET', '/api/v1/posts?limit=10&offset=10');
      expect(ids(second.body.data)).not.toContain(before[10]);
      expect([...ids(first.body.data), ...ids(second.body.data)]).not.toContain(before[10]);
    });

    it('a post changed meanwhile so that it sorts after the cursor is listed once, where it now sorts', async () => {
      const before = ids((await t.request('GET', '/api/v1/posts?limit=100&sort=-updatedAt')).body.data);
      const first = await t.request('GET', '/api/v1/posts?limit=10&sort=title');
      // The first post of page 1 renamed to sort last: it comes again, at its new place (that is the list now).
      const moved = first.body.data[0].id;
      await t.request('PATCH', `/api/v1/posts/${moved}`, { body: { title: 'zzz moved' } });
      const rest = await walk('/api/v1/posts?limit=10&sort=title', undefined, first.body.meta.nextCursor);
      expect(ids(rest.rows).at(-1)).toBe(moved);
      const listed = [...ids(first.body.data), ...ids(rest.rows)];
      expect(new Set(listed.filter((id) => id !== moved)).size).toBe(before.length - 1);
    });
  });

  describe('a cursor is opaque, tamper-evident and bound to its list', () => {
    let cursor: string;
    let postId: number;

    beforeAll(async () => {
      await t.truncate();
      authorId = (await createUser(t)).id;
      await seedPosts(12);
      const [row] = await t.rows<{ id: number }>('SELECT id FROM posts ORDER BY id LIMIT 1');
      postId = row.id;
      cursor = (await t.request('GET', '/api/v1/posts?limit=5&published=true')).body.meta.nextCursor;
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    });

    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);

    it('works as given', async () => {
      expect((await t.request('GET', `/api/v1/posts?limit=5&published=true&cursor=${cursor}`)).status).toBe(200);
    });

    it.each([
      ['its values edited', () => flip(cursor, 2)],
      ['its MAC edited', () => flip(cursor, cursor.length - 3)],
      ['other values under its MAC', () => `${Buffer.from(JSON.stringify(['2030-01-01T00:00:00.000Z', 1])).toString('base64url')}.${cursor.split('.')[1]}`],
      ['its MAC cut short', () => cursor.slice(0, -4)],
      ['its MAC left out', () => `${cursor.split('.')[0]}.A`],
      ['a third part', () => `${cursor}.AAAA`],
    ])('400 for a cursor with %s, and nothing listed', async (_case, make) => {
      const response = await t.request('GET', `/api/v1/posts?limit=5&published=true&cursor=${encodeURIComponent(make())}`);
      expectApiError(response, 400);
      expect(JSON.stringify(response.body.message)).toMatch(/cursor/);
    });

    it.each([
      ['another sort', 'sort=title&published=true'],
      ['another filter value', 'published=false'],
      ['a filter left out', ''],
      ['a filter added', `published=true&authorId=${1}`],
    ])('400 for a cursor taken to %s', async (_case, query) => {
      const response = await t.request('GET', `/api/v1/posts?limit=5&${query}&cursor=${cursor}`.replace('&&', '&'));
      expectApiError(response, 400);
    });

    it("400 for a cursor of all posts on one author's posts (the author from the path binds it as the filter would)", async () => {
      expectApiError(await t.request('GET', `/api/v1/users/${authorId}/posts?limit=5&published=true&cursor=${cursor}`), 400);
      const own = (await t.request('GET', `/api/v1/users/${authorId}/posts?limit=5&published=true`)).body.meta.nextCursor;
      expect((await t.request('GET', `/api/v1/posts?limit=5&published=true&authorId=${authorId}&cursor=${own}`)).status).toBe(200);
    });

    it('what only shapes the rows (include, limit) does not bind the cursor; a search binds it case-insensitively', async () => {
      expect((await t.request('GET', `/api/v1/posts?limit=2&published=true&include=author&cursor=${cursor}`)).status).toBe(200);
      const searched = (await t.request('GET', '/api/v1/posts?limit=1&published=true&q=Post')).body.meta.nextCursor;
      expect(searched).toEqual(expect.any(String));
      expect((await t.request('GET', `/api/v1/posts?limit=1&published=true&q=pOST&cursor=${searched}`)).status).toBe(200);
      expectApiError(await t.request('GET', `/api/v1/posts?limit=1&published=true&q=posts&cursor=${searched}`), 400);
    });

    it('400 for a cursor of another list, though the sorts agree: posts, users and tags all default to the newest first', async () => {
      const bare = (await t.request('GET', '/api/v1/posts?limit=1')).body.meta.nextCursor;
      expect(bare).toEqual(expect.any(String));
      expect((await t.request('GET', `/api/v1/posts?limit=1&cursor=${bare}`)).status).toBe(200);
      for (const list of ['/api/v1/users', '/api/v1/tags', `/api/v1/posts/${postId}/comments`]) {
        const response = await t.request('GET', `${list}?cursor=${bare}`);
        expectApiError(response, 400);
        expect(JSON.stringify(response.body.message)).toMatch(/cursor is not valid for this list/);
      }
    });

    it("400 for one post's comments cursor on another post's comments", async () => {
      const other = (await t.rows<{ id: number }>('SELECT id FROM posts ORDER BY id DESC LIMIT 1'))[0].id;
      for (let i = 0; i < 3; i++) expect((await t.request('POST', `/api/v1/posts/${postId}/comments`, { body: { body: `c${i}` } })).status).toBe(201);
      const page = await t.request('GET', `/api/v1/posts/${postId}/comments?limit=2`);
      expect(page.body.meta.nextCursor).toEqual(expect.any(String));
      expect((await t.request('GET', `/api/v1/posts/${postId}/comments?limit=2&cursor=${page.body.meta.nextCursor}`)).body.data).toHaveLength(1);
      expectApiError(await t.request('GET', `/api/v1/posts/${other}/comments?limit=2&cursor=${page.body.meta.nextCursor}`), 400);
    });

    it.each([
      ['empty', ''],
      ['no MAC', 'abc'],
      ['characters outside base64url', 'a+b.c/d'],
      ['too long', `${'A'.repeat(MAX_CURSOR_LENGTH)}.AA`],
      ['repeated', 'REPEAT'],
    ])('400 for a cursor that is %s', async (_case, value) => {
      const query = value === 'REPEAT' ? `cursor=${cursor}&cursor=${cursor}` : `cursor=${encodeURIComponent(value)}`;
      expectApiError(await t.request('GET', `/api/v1/posts?limit=5&published=true&${query}`), 400);
    });

    it('400 for a cursor with an offset; offset=0 is the same as none', async () => {
      const response = await t.request('GET', `/api/v1/posts?limit=5&published=true&offset=5&cursor=${cursor}`);
      expectApiError(response, 400);
      expect(JSON.stringify(response.body.message)).toMatch(/offset cannot be combined with cursor/);
      expect((await t.request('GET', `/api/v1/posts?limit=5&published=true&offset=0&cursor=${cursor}`)).status).toBe(200);
    });

    it(`offsets stop at ${MAX_OFFSET}, and the 400 points to the cursor`, async () => {
      expect((await t.request('GET', `/api/v1/posts?offset=${MAX_OFFSET}`)).status).toBe(200);
      const response = await t.request('GET', `/api/v1/posts?offset=${MAX_OFFSET + 1}`);
      expectApiError(response, 400);
      expect(JSON.stringify(response.body.message)).toMatch(/nextCursor/);
    });

    it('400 for withTotal that is not a boolean', async () => {
      expectApiError(await t.request('GET', '/api/v1/posts?withTotal=yes'), 400);
    });

    it('a cursor names no secret: its values are the sort keys of a row the client was shown', async () => {
      const page = await t.request('GET', '/api/v1/posts?limit=5&published=true');
      const values = JSON.parse(Buffer.from(page.body.meta.nextCursor.split('.')[0], 'base64url').toString());
      const last = page.body.data.at(-1);
      expect(values).toEqual([last.createdAt, last.id]);
    });
  });

  describe('the cost of a page at depth (the plan of the statement the app sent)', () => {
    const POSTS = 30_000;

    interface PlanNode {
      'Node Type': string;
      'Index Name'?: string;
      'Actual Rows': number;
      'Actual Loops': number;
      'Rows Removed by Filter'?: number;
      Plans?: PlanNode[];
    }
    const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

    beforeAll(async () => {
      await t.truncate();
      authorId = (await createUser(t)).id;
      await seedPosts(POSTS);
      await t.sequelize.query('ANALYZE posts');
    });

    /** The page statement of `path` (the one without count), run again under EXPLAIN ANALYZE. */
    async function planOf(path: string): Promise<{ body: any; sql: string; nodes: PlanNode[] }> {
      const { result, statements } = await t.captureStatements(() => t.request('GET', path));
      expect(result.status).toBe(200);
      const pageStatements = afterSessionProbe(statements).filter((sql) => !/count\(/i.test(sql));
      expect(pageStatements).toHaveLength(1);
      const [sql] = pageStatements;
      const [row] = await t.sequelize.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql.replace(/;\s*$/, '')}`, {
        type: QueryTypes.SELECT,
      });
      return { body: result.body, sql, nodes: nodes(row['QUERY PLAN'][0].Plan) };
    }

    /** A cursor to the rows after the first `depth` of the default order (newest first), as a client would hold it. */
    async function cursorAt(depth: number): Promise<string> {
      const page = await t.request('GET', `/api/v1/posts?limit=1&offset=${depth - 1}&withTotal=false`);
      return page.body.meta.nextCursor;
    }

    it.each([100, 10_000, 29_000])('a cursor page %i rows deep reads one page of the index: no Sort, no Seq Scan', async (depth) => {
      const { body, nodes: plan, sql } = await planOf(`/api/v1/posts?limit=20&cursor=${depth <= MAX_OFFSET ? await cursorAt(depth) : await deepCursor(depth)}`);
      const scans = plan.filter((node) => node['Node Type'].includes('Scan'));
      expect({ sql, scans: scans.map((node) => `${node['Node Type']} ${node['Index Name'] ?? ''}`.trim()) }).toEqual({
        sql,
        scans: [expect.stringMatching(/^Index Scan( Backward)? posts_created_at_id/)],
      });
      expect(plan.map((node) => node['Node Type'])).not.toContain('Sort');
      // The page and the one row that says another follows; a few more at most, where a tie shares the cursor's instant.
      expect(scans[0]['Actual Rows'] + (scans[0]['Rows Removed by Filter'] ?? 0)).toBeLessThanOrEqual(21 + 2);
      expect(body.data).toHaveLength(20);
    });

    it(`an offset page ${MAX_OFFSET} rows deep reads all ${MAX_OFFSET} rows before it (the cost the cursor avoids)`, async () => {
      const { nodes: plan } = await planOf(`/api/v1/posts?limit=20&offset=${MAX_OFFSET}&withTotal=false`);
      const scan = plan.find((node) => node['Node Type'].includes('Scan'))!;
      expect(scan['Actual Rows']).toBeGreaterThanOrEqual(MAX_OFFSET + 20);
    });

    /** Deeper than offsets go: walk there by cursor, 100 rows a page. */
    async function deepCursor(depth: number): Promise<string> {
      let cursor = await cursorAt(MAX_OFFSET);
      for (let at = MAX_OFFSET; at < depth; at += 100) {
        cursor = (await t.request('GET', `/api/v1/posts?limit=100&cursor=${cursor}`)).body.meta.nextCursor;
      }
      return cursor;
    }
  });
});
