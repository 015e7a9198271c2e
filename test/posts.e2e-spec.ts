/**
 * /api/v1/posts through real HTTP against PostgreSQL: every endpoint, every status
 * it documents, the search escaping, and the statement count of each read.
 *
 * Requests act as the harness admin (t.admin), who sees drafts and may write any post under any author: these tests
 * are about what each operation does, not about who may call it (test/access-matrix.e2e-spec.ts).
 */
import { MAX_ID } from '../src/common/validation/input-rules';
import { createPost, createUser, expectApiError, ISO_TIMESTAMP } from './utils/fixtures';
import { afterSessionProbe } from './utils/session-probe';
import { createTestApp, type TestApp } from './utils/test-app';

// User ids are not restarted between tests (the harness admin stays) and go on across the files of a worker, so a
// small literal id may belong to a user of this very test; the largest id the API accepts never does.
const NO_SUCH_USER = MAX_ID;

describe('Posts API (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  beforeEach(async () => {
    await t.truncate();
  });

  const postCount = async () => (await t.rows<{ n: number }>('SELECT count(*)::int AS n FROM posts'))[0].n;

  describe('POST /posts', () => {
    it('creates a draft by default: 201 with the representation and ISO timestamps', async () => {
      const author = await createUser(t);
      const response = await t.request('POST', '/api/v1/posts', { body: { title: 'Hello', body: 'World', authorId: author.id } });
      expect(response.status).toBe(201);
      expect(Object.keys(response.body).sort()).toEqual(['authorId', 'body', 'createdAt', 'id', 'published', 'title', 'updatedAt']);
      expect(response.body).toMatchObject({ title: 'Hello', body: 'World', published: false, authorId: author.id });
      expect(response.body.createdAt).toMatch(ISO_TIMESTAMP);
      expect((await t.request('GET', `/api/v1/posts/${response.body.id}`)).body).toEqual(response.body);
    });

    // The author's check is the database's (trigger posts_author_id_live), inside the INSERT: no statement of its own.
    it('runs BEGIN, the INSERT, its audit row, COMMIT; a missing author: 422 from the INSERT, rolled back', async () => {
      const author = await createUser(t);
      const created = await t.captureStatements(() => t.request('POST', '/api/v1/posts', { body: { title: 'T', body: 'B', authorId: author.id } }));
      expect(created.result.status).toBe(201);
      // After the guard's session check of the caller's token, which runs before the transaction begins.
      const statements = afterSessionProbe(created.statements);
      expect(statements).toHaveLength(4);
      expect(statements[0]).toMatch(/^(START TRANSACTION|BEGIN)/);
      expect(statements[1]).toMatch(/^INSERT INTO "posts"/);
      expect(statements[2]).toMatch(/^\s*INSERT INTO audit_events/);
      expect(statements[3]).toMatch(/^COMMIT/);
      const missing = await t.captureStatements(() =>
        t.request('POST', '/api/v1/posts', { body: { title: 'T', body: 'B', authorId: NO_SUCH_USER } }),
      );
      expectApiError(missing.result, 422);
      expect(missing.result.body.message).toBe(`Author ${NO_SUCH_USER} does not exist`);
      expect(afterSessionProbe(missing.statements)).toEqual([
        expect.stringMatching(/^(START TRANSACTION|BEGIN)/),
        expect.stringMatching(/^INSERT INTO "posts"/),
        expect.stringMatching(/^ROLLBACK/),
      ]);
      expect(await postCount()).toBe(1);
    });

    it('the database refuses a live post under a missing or deleted author, whoever writes it', async () => {
      const author = await createUser(t);
      await t.request('DELETE', `/api/v1/users/${author.id}`);
      for (const authorId of [author.id, NO_SUCH_USER]) {
        await expect(
          t.sequelize.query('INSERT INTO posts (title, body, "authorId", "createdAt", "updatedAt") VALUES ($1, $2, $3, now(), now())', { bind: ['t', 'b', authorId] }),
        ).rejects.toMatchObject({ name: 'SequelizeForeignKeyConstraintError', index: 'posts_author_id_live' });
      }
      // A deleted post may keep its deleted author (a cascade writes such rows); only live posts are checked.
      await t.sequelize.query('INSERT INTO posts (title, body, "authorId", "createdAt", "updatedAt", "deletedAt") VALUES ($1, $2, $3, now(), now(), now())', {
        bind: ['t', 'b', author.id],
      });
      expect(await postCount()).toBe(1);
    });

    it('keeps unicode intact and accepts published=true', async () => {
      const author = await createUser(t);
      const post = await createPost(t, author.id, { title: 'Zoë 🚀 日本語', body: '\u{1F600} ok', published: true });
      expect(post).toMatchObject({ title: 'Zoë 🚀 日本語', body: '\u{1F600} ok', published: true });
    });

    it.each([
      ['missing title', { body: 'b' }],
      ['empty title', { title: '', body: 'b' }],
      ['title too long', { title: 'x'.repeat(256), body: 'b' }],
      ['empty body', { title: 't', body: '' }],
      ['body with NUL', { title: 't', body: 'a\u0000b' }],
      ['published as a string', { title: 't', body: 'b', published: 'true' }],
      ['published null', { title: 't', body: 'b', published: null }],
      ['unknown property', { title: 't', body: 'b', views: 3 }],
    ])('400 for %s', async (_case, body) => {
      const author = await createUser(t);
      expectApiError(await t.request('POST', '/api/v1/posts', { body: { authorId: author.id, ...body } }), 400);
      expect(await postCount()).toBe(0);
    });

    it('without authorId the post is the caller’s', async () => {
      const response = await t.request('POST', '/api/v1/posts', { body: { title: 't', body: 'b' } });
      expect(response.status).toBe(201);
      expect(response.body.authorId).toBe(t.admin.id);
      expect(await t.rows('SELECT "authorId" FROM posts')).toEqual([{ authorId: t.admin.id }]);
    });

    it.each([
      ['authorId as a string', '1'],
      ['authorId zero', 0],
      ['authorId fractional', 1.5],
      ['authorId beyond int4', 2147483648],
    ])('400 for %s', async (_case, authorId) => {
      await createUser(t);
      expectApiError(await t.request('POST', '/api/v1/posts', { body: { title: 't', body: 'b', authorId } }), 400);
      expect(await postCount()).toBe(0);
    });

    // Without the author's row lock (FOR SHARE, taken by the trigger posts_author_id_live), this fails within a few rounds.
    it('never leaves a live post under an author deleted concurrently', async () => {
      for (let round = 0; round < 5; round++) {
        const author = await createUser(t);
        const responses = await Promise.all([
          ...Array.from({ length: 8 }, (_, i) =>
            t.request('POST', '/api/v1/posts', { body: { title: `Race ${i}`, body: 'b', authorId: author.id } }),
          ),
          t.request('DELETE', `/api/v1/users/${author.id}`),
        ]);
        // Each create either won the race (and was cascaded by the delete) or saw a deleted author.
        expect(responses[8].status).toBe(204);
        for (const response of responses.slice(0, 8)) expect([201, 422]).toContain(response.status);
      }
      const [orphans] = await t.sequelize.query(
        'SELECT p.id FROM posts p JOIN users u ON u.id = p."authorId" WHERE p."deletedAt" IS NULL AND u."deletedAt" IS NOT NULL',
      );
      expect(orphans).toEqual([]);
    });

    it('422 when authorId names no user, or a deleted one', async () => {
      expectApiError(await t.request('POST', '/api/v1/posts', { body: { title: 't', body: 'b', authorId: NO_SUCH_USER } }), 422);
      const gone = await createUser(t);
      await t.request('DELETE', `/api/v1/users/${gone.id}`);
      const response = await t.request('POST', '/api/v1/posts', { body: { title: 't', body: 'b', authorId: gone.id } });
      expectApiError(response, 422);
      expect(await postCount()).toBe(0);
    });
  });

  describe('GET /posts', () => {
    it('lists live posts newest first, paged, ties broken by id', async () => {
      const author = await createUser(t);
      const posts = [];
      for (let i = 0; i < 4; i++) posts.push(await createPost(t, author.id, { title: `Post ${i}` }));
      await t.request('DELETE', `/api/v1/posts/${posts[3].id}`);
      await t.sequelize.query('UPDATE posts SET "createdAt" = $1', { bind: ['2026-01-01T00:00:00Z'] });

      const response = await t.request('GET', '/api/v1/posts?limit=2');
      expect(response.status).toBe(200);
      expect(response.body.meta).toEqual({ total: 3, limit: 2, offset: 0, nextCursor: expect.any(String) });
      expect(response.body.data.map((post: any) => post.id)).toEqual([posts[2].id, posts[1].id]);
      const next = await t.request('GET', '/api/v1/posts?limit=2&offset=2');
      expect(next.body.data.map((post: any) => post.id)).toEqual([posts[0].id]);
    });

    it('sorts by title, and by several keys', async () => {
      const author = await createUser(t);
      const b = await createPost(t, author.id, { title: 'b' });
      const a = await createPost(t, author.id, { title: 'a' });
      const c = await createPost(t, author.id, { title: 'c' });
      const asc = await t.request('GET', '/api/v1/posts?sort=title');
      expect(asc.body.data.map((post: any) => post.id)).toEqual([a.id, b.id, c.id]);
      const desc = await t.request('GET', '/api/v1/posts?sort=-title,id');
      expect(desc.body.data.map((post: any) => post.id)).toEqual([c.id, b.id, a.id]);
      const byId = await t.request('GET', '/api/v1/posts?sort=id');
      expect(byId.body.data.map((post: any) => post.id)).toEqual([b.id, a.id, c.id]);
    });

    it('filters by authorId and published', async () => {
      const one = await createUser(t);
      const two = await createUser(t);
      const draft = await createPost(t, one.id);
      const live = await createPost(t, one.id, { published: true });
      const others = await createPost(t, two.id, { published: true });

      const byAuthor = await t.request('GET', `/api/v1/posts?authorId=${one.id}`);
      expect(byAuthor.body.data.map((post: any) => post.id)).toEqual([live.id, draft.id]);
      const published = await t.request('GET', '/api/v1/posts?published=true');
      expect(published.body.data.map((post: any) => post.id)).toEqual([others.id, live.id]);
      const drafts = await t.request('GET', '/api/v1/posts?published=false');
      expect(drafts.body.data.map((post: any) => post.id)).toEqual([draft.id]);
      const both = await t.request('GET', `/api/v1/posts?authorId=${two.id}&published=false`);
      expect(both.body).toEqual({ data: [], meta: { total: 0, limit: 20, offset: 0, nextCursor: null } });
    });

    it('q matches title or body case-insensitively, with %, _ and \\ taken literally', async () => {
      const author = await createUser(t);
      const inTitle = await createPost(t, author.id, { title: 'Hello World', body: 'x' });
      const inBody = await createPost(t, author.id, { title: 'x', body: 'say HELLO' });
      const percent = await createPost(t, author.id, { title: '100% sure', body: 'x' });
      const underscore = await createPost(t, author.id, { title: 'snake_case', body: 'x' });
      const backslash = await createPost(t, author.id, { title: 'C:\\temp', body: 'x' });
      const dollar = await createPost(t, author.id, { title: 'costs $$5 or ${jndi:ldap://x}', body: 'x' });
      await createPost(t, author.id, { title: '1000 sure', body: 'snakeXcase C:temp 00x' });

      async function search(q: string): Promise<number[]> {
        const response = await t.request('GET', `/api/v1/posts?sort=id&q=${encodeURIComponent(q)}`);
        expect(response.status).toBe(200);
        return response.body.data.map((post: any) => post.id);
      }
      // Each term holds 3 letters or digits in a row (the trigram the index looks up); were %, _ or \ patterns, each
      // would also match the decoy post.
      expect(await search('hello')).toEqual([inTitle.id, inBody.id]);
      expect(await search('100% s')).toEqual([percent.id]);
      expect(await search('ake_cas')).toEqual([underscore.id]);
      expect(await search('C:\\tem')).toEqual([backslash.id]);
      // Dollar signs reach the database as sent (Sequelize doubles them in a plain fn() argument).
      expect(await search('${jndi:ldap://x}')).toEqual([dollar.id]);
      expect(await search('costs $$5')).toEqual([dollar.id]);
      expect(await search("' OR 'abc'='abc' --")).toEqual([]);
    });

    // Counted after the guard's session check of the harness admin's token; the admin sees these drafts.
    it('include=author embeds the author; 2 statements whatever the page size', async () => {
      const author = await createUser(t);
      for (let i = 0; i < 5; i++) await createPost(t, author.id);
      for (const path of ['/api/v1/posts?limit=1', '/api/v1/posts?limit=5', '/api/v1/posts?limit=5&include=author&q=title&published=false']) {
        const { result, statements } = await t.captureStatements(() => t.request('GET', path));
        expect(result.status).toBe(200);
        expect(result.body.data).not.toEqual([]);
        expect(afterSessionProbe(statements)).toHaveLength(2);
      }
      const response = await t.request('GET', '/api/v1/posts?include=author&limit=3');
      expect(response.body.meta.total).toBe(5);
      expect(response.body.data).toHaveLength(3);
      for (const post of response.body.data) expect(post.author).toEqual(author);
    });

    it.each([
      'limit=0',
      'limit=101',
      'offset=-5',
      'offset=x',
      'sort=body',
      'sort=name',
      'sort=title,-title',
      'authorId=0',
      'authorId=abc',
      'authorId=2147483648',
      'published=1',
      'published=',
      'q=',
      `q=${'a'.repeat(201)}`,
      'q=%00',
      'include=comments',
      'include=author&include=author',
      'page=2',
    ])('400 for %s', async (query) => {
      expectApiError(await t.request('GET', `/api/v1/posts?${query}`), 400);
    });
  });

  describe('GET /posts/:id', () => {
    it('returns the post in one statement, with or without the author', async () => {
      const author = await createUser(t);
      const post = await createPost(t, author.id);
      const plain = await t.captureStatements(() => t.request('GET', `/api/v1/posts/${post.id}`));
      expect(plain.result.status).toBe(200);
      expect(plain.result.body).toEqual(post);
      expect(afterSessionProbe(plain.statements)).toHaveLength(1);
      const withAuthor = await t.captureStatements(() => t.request('GET', `/api/v1/posts/${post.id}?include=author`));
      expect(withAuthor.result.body).toEqual({ ...post, author });
      expect(afterSessionProbe(withAuthor.statements)).toHaveLength(1);
    });

    it('404 for a missing or deleted post', async () => {
      expectApiError(await t.request('GET', '/api/v1/posts/123456'), 404);
      const post = await createPost(t, (await createUser(t)).id);
      await t.request('DELETE', `/api/v1/posts/${post.id}`);
      expectApiError(await t.request('GET', `/api/v1/posts/${post.id}`), 404);
    });

    it.each(['abc', '-3', '0', '3.0', '2147483648', '1%27%20OR%201=1'])('400 for the id %s', async (id) => {
      expectApiError(await t.request('GET', `/api/v1/posts/${id}`), 400);
    });

    it('400 for an unknown query parameter', async () => {
      const post = await createPost(t, (await createUser(t)).id);
      expectApiError(await t.request('GET', `/api/v1/posts/${post.id}?include=posts`), 400);
      expectApiError(await t.request('GET', `/api/v1/posts/${post.id}?q=x`), 400);
    });
  });

  describe('PATCH /posts/:id', () => {
    it('updates the given fields, including moving the post to another live author', async () => {
      const author = await createUser(t);
      const other = await createUser(t);
      const post = await createPost(t, author.id);
      const response = await t.request('PATCH', `/api/v1/posts/${post.id}`, {
        body: { title: 'New title', published: true, authorId: other.id },
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: post.id, title: 'New title', body: post.body, published: true, authorId: other.id });
      expect(response.body.createdAt).toBe(post.createdAt);
      expect((await t.request('GET', `/api/v1/posts/${post.id}`)).body).toEqual(response.body);
    });

    it('an empty body changes nothing', async () => {
      const post = await createPost(t, (await createUser(t)).id);
      const response = await t.request('PATCH', `/api/v1/posts/${post.id}`, { body: {} });
      expect(response.status).toBe(200);
      expect(response.body).toEqual(post);
    });

    it.each([
      ['empty title', { title: '' }],
      ['null body', { body: null }],
      ['published as a number', { published: 1 }],
      ['unknown property', { authorName: 'x' }],
      ['authorId as a string', { authorId: '2' }],
    ])('400 for %s', async (_case, body) => {
      const post = await createPost(t, (await createUser(t)).id);
      expectApiError(await t.request('PATCH', `/api/v1/posts/${post.id}`, { body }), 400);
      expect((await t.request('GET', `/api/v1/posts/${post.id}`)).body).toEqual(post);
    });

    it('400 for an invalid id', async () => {
      expectApiError(await t.request('PATCH', '/api/v1/posts/one', { body: { title: 'x' } }), 400);
    });

    it('404 for a missing or deleted post', async () => {
      expectApiError(await t.request('PATCH', '/api/v1/posts/99', { body: { title: 'x' } }), 404);
      const post = await createPost(t, (await createUser(t)).id);
      await t.request('DELETE', `/api/v1/posts/${post.id}`);
      expectApiError(await t.request('PATCH', `/api/v1/posts/${post.id}`, { body: { title: 'x' } }), 404);
    });

    it('422 when the new author does not exist or is deleted', async () => {
      const post = await createPost(t, (await createUser(t)).id);
      expectApiError(await t.request('PATCH', `/api/v1/posts/${post.id}`, { body: { authorId: NO_SUCH_USER } }), 422);
      const gone = await createUser(t);
      await t.request('DELETE', `/api/v1/users/${gone.id}`);
      expectApiError(await t.request('PATCH', `/api/v1/posts/${post.id}`, { body: { authorId: gone.id } }), 422);
      expect((await t.request('GET', `/api/v1/posts/${post.id}`)).body).toEqual(post);
    });
  });

  describe('DELETE /posts/:id', () => {
    it('204 and the post is gone from reads and lists', async () => {
      const author = await createUser(t);
      const post = await createPost(t, author.id);
      const response = await t.request('DELETE', `/api/v1/posts/${post.id}`);
      expect(response.status).toBe(204);
      expect(response.body).toBe('');
      expect((await t.request('GET', '/api/v1/posts')).body.meta.total).toBe(0);
      expect((await t.request('GET', `/api/v1/users/${author.id}?include=posts`)).body.posts).toEqual([]);
    });

    it('404 for a missing post and for a second delete', async () => {
      expectApiError(await t.request('DELETE', '/api/v1/posts/5150'), 404);
      const post = await createPost(t, (await createUser(t)).id);
      await t.request('DELETE', `/api/v1/posts/${post.id}`);
      expectApiError(await t.request('DELETE', `/api/v1/posts/${post.id}`), 404);
    });

    it('400 for an invalid id', async () => {
      expectApiError(await t.request('DELETE', '/api/v1/posts/null'), 400);
    });
  });

  describe('POST /posts/:id/restore', () => {
    it('200 brings a deleted post back', async () => {
      const post = await createPost(t, (await createUser(t)).id);
      await t.request('DELETE', `/api/v1/posts/${post.id}`);
      const response = await t.request('POST', `/api/v1/posts/${post.id}/restore`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual(post);
      expect((await t.request('GET', `/api/v1/posts/${post.id}`)).status).toBe(200);
    });

    it('200 and no change for a live post', async () => {
      const post = await createPost(t, (await createUser(t)).id);
      const response = await t.request('POST', `/api/v1/posts/${post.id}/restore`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual(post);
    });

    it('404 for an id that never existed', async () => {
      expectApiError(await t.request('POST', '/api/v1/posts/2024/restore'), 404);
    });

    it('409 while its author is deleted', async () => {
      const author = await createUser(t);
      const post = await createPost(t, author.id);
      await t.request('DELETE', `/api/v1/users/${author.id}`);
      expectApiError(await t.request('POST', `/api/v1/posts/${post.id}/restore`), 409);
      expectApiError(await t.request('GET', `/api/v1/posts/${post.id}`), 404);
    });

    it('400 for an invalid id', async () => {
      expectApiError(await t.request('POST', '/api/v1/posts/1.0/restore'), 400);
    });
  });
});
