/**
 * /api/v1/users through real HTTP against PostgreSQL: every endpoint, every status
 * it documents, and the statement count of each read (no N+1).
 *
 * Requests act as the harness admin (t.admin), who may do everything: these tests are about what each operation
 * does, not about who may call it (test/access-matrix.e2e-spec.ts). The admin is a live user, so lists and counts
 * include it.
 */
import { MAX_ID } from '../src/common/validation/input-rules';
import { createPost, createUser, expectApiError, ISO_TIMESTAMP } from './utils/fixtures';
import { afterSessionProbe } from './utils/session-probe';
import { createTestApp, type TestApp } from './utils/test-app';

// User ids are not restarted between tests (the harness admin stays) and go on across the files of a worker, so a
// small literal id may belong to a user of this very test; the largest id the API accepts never does.
const NO_SUCH_USER = MAX_ID;

describe('Users API (e2e)', () => {
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

  describe('POST /users', () => {
    it('creates a user: 201, normalised email, default role, ISO timestamps, no internals', async () => {
      const response = await t.request('POST', '/api/v1/users', {
        body: { name: 'Ada Lovelace', email: '  Ada.Lovelace@Example.COM ' },
      });
      expect(response.status).toBe(201);
      expect(Object.keys(response.body).sort()).toEqual(['createdAt', 'email', 'id', 'name', 'role', 'updatedAt']);
      expect(response.body).toMatchObject({ name: 'Ada Lovelace', email: 'ada.lovelace@example.com', role: 'user' });
      expect(response.body.id).toEqual(expect.any(Number));
      expect(response.body.createdAt).toMatch(ISO_TIMESTAMP);
      expect(response.body.updatedAt).toMatch(ISO_TIMESTAMP);
      const [row] = await t.rows('SELECT email FROM users WHERE id = $1', [response.body.id]);
      expect(row.email).toBe('ada.lovelace@example.com');
    });

    it('accepts an explicit role', async () => {
      const user = await createUser(t, { role: 'admin' });
      expect(user.role).toBe('admin');
    });

    it.each([
      ['missing name', { email: 'a@example.com' }],
      ['name too short', { name: 'A', email: 'a@example.com' }],
      ['name too long', { name: 'x'.repeat(101), email: 'a@example.com' }],
      ['name not a string', { name: 42, email: 'a@example.com' }],
      ['name with NUL', { name: 'Ad\u0000a', email: 'a@example.com' }],
      ['missing email', { name: 'Ada' }],
      ['invalid email', { name: 'Ada', email: 'not-an-email' }],
      ['email too long', { name: 'Ada', email: `${'a'.repeat(250)}@example.com` }],
      ['unknown role', { name: 'Ada', email: 'a@example.com', role: 'root' }],
      ['null role', { name: 'Ada', email: 'a@example.com', role: null }],
      ['unknown property', { name: 'Ada', email: 'a@example.com', isAdmin: true }],
      ['id supplied', { name: 'Ada', email: 'a@example.com', id: 7 }],
    ])('400 for %s, and nothing is written', async (_case, body) => {
      expectApiError(await t.request('POST', '/api/v1/users', { body }), 400);
      expect(await t.rows('SELECT id FROM users')).toEqual([{ id: t.admin.id }]);
    });

    it('400 for malformed JSON and for a non-object body', async () => {
      expectApiError(await t.request('POST', '/api/v1/users', { rawBody: '{"name":', headers: { 'content-type': 'application/json' } }), 400);
      expectApiError(await t.request('POST', '/api/v1/users', { body: ['Ada'] }), 400);
    });

    it('409 when the email is taken, case-insensitively', async () => {
      await createUser(t, { email: 'taken@example.com' });
      const response = await t.request('POST', '/api/v1/users', { body: { name: 'Other', email: ' TAKEN@Example.com' } });
      expectApiError(response, 409);
      expect(response.body.message).toMatch(/email/);
    });

    it('lets a new user take the email of a deleted one', async () => {
      const old = await createUser(t, { email: 'reuse@example.com' });
      expect((await t.request('DELETE', `/api/v1/users/${old.id}`)).status).toBe(204);
      const again = await createUser(t, { email: 'reuse@example.com' });
      expect(again.id).not.toBe(old.id);
    });
  });

  describe('GET /users', () => {
    it('lists live users newest first in the envelope, ties broken by id', async () => {
      const a = await createUser(t);
      const b = await createUser(t);
      const c = await createUser(t);
      const deleted = await createUser(t);
      await t.request('DELETE', `/api/v1/users/${deleted.id}`);
      // Same createdAt for a and b: the tie-breaker must order them by id (descending, like createdAt).
      await t.rows('UPDATE users SET "createdAt" = $1 WHERE id IN ($2, $3)', ['2026-01-01T00:00:00Z', a.id, b.id]);

      const response = await t.request('GET', '/api/v1/users');
      expect(response.status).toBe(200);
      // The three live users and the harness admin, whose place depends on the date a and b were moved to.
      expect(response.body.meta).toEqual({ total: 4, limit: 20, offset: 0, nextCursor: null });
      expect(response.body.data.map((user: any) => user.id)).toContain(t.admin.id);
      const created = response.body.data.filter((user: any) => user.id !== t.admin.id);
      expect(created.map((user: any) => user.id)).toEqual([c.id, b.id, a.id]);
      expect(created[0]).toEqual(c);
      expect(created[0]).not.toHaveProperty('posts');
    });

    it('pages with limit and offset; total counts every match', async () => {
      const users = [];
      for (let i = 0; i < 5; i++) users.push(await createUser(t, { name: `User ${i}` }));
      // role=user leaves the harness admin out: the matches are exactly the five users created here.
      const response = await t.request('GET', '/api/v1/users?role=user&sort=name&limit=2&offset=2');
      expect(response.status).toBe(200);
      expect(response.body.meta).toEqual({ total: 5, limit: 2, offset: 2, nextCursor: expect.any(String) });
      expect(response.body.data.map((user: any) => user.name)).toEqual(['User 2', 'User 3']);
      const past = await t.request('GET', '/api/v1/users?role=user&offset=10');
      expect(past.body).toEqual({ data: [], meta: { total: 5, limit: 20, offset: 10, nextCursor: null } });
      // Unfiltered, the total counts the harness admin too.
      expect((await t.request('GET', '/api/v1/users?offset=10')).body.meta.total).toBe(6);
    });

    it('sorts by several fields, descending with "-"', async () => {
      await createUser(t, { name: 'Bob', email: 'b2@example.com' });
      await createUser(t, { name: 'Bob', email: 'b1@example.com' });
      await createUser(t, { name: 'Al', email: 'a@example.com' });
      // The harness admin is listed too (between them, by name and by email); its place is not the point here.
      const emails = (page: { body: any }) => page.body.data.filter((user: any) => user.id !== t.admin.id).map((user: any) => user.email);
      const response = await t.request('GET', '/api/v1/users?sort=-name,email');
      expect(response.body.meta.total).toBe(4);
      expect(emails(response)).toEqual(['b1@example.com', 'b2@example.com', 'a@example.com']);
      const byEmailDesc = await t.request('GET', '/api/v1/users?sort=-email');
      expect(emails(byEmailDesc)).toEqual(['b2@example.com', 'b1@example.com', 'a@example.com']);
    });

    it('filters by role and by exact, normalised email', async () => {
      const boss = await createUser(t, { role: 'admin', email: 'boss@example.com' });
      await createUser(t);
      const admins = await t.request('GET', '/api/v1/users?role=admin');
      // The new admin, then the harness admin (created first, so last under the default -createdAt).
      expect(admins.body.data.map((user: any) => user.id)).toEqual([boss.id, t.admin.id]);
      expect(admins.body.meta.total).toBe(2);
      const byEmail = await t.request('GET', `/api/v1/users?email=${encodeURIComponent(' BOSS@example.com ')}`);
      expect(byEmail.body.data.map((user: any) => user.id)).toEqual([boss.id]);
      const partial = await t.request('GET', '/api/v1/users?email=boss@example.co');
      expect(partial.body.data).toEqual([]);
      const both = await t.request('GET', '/api/v1/users?role=user&email=boss@example.com');
      expect(both.body.meta.total).toBe(0);
    });

    it('include=posts embeds live posts; published filters only the embedded posts', async () => {
      const writer = await createUser(t);
      const idle = await createUser(t);
      const published = await createPost(t, writer.id, { title: 'Out', published: true });
      const draft = await createPost(t, writer.id, { title: 'Draft' });
      const gone = await createPost(t, writer.id, { title: 'Gone', published: true });
      await t.request('DELETE', `/api/v1/posts/${gone.id}`);

      // By id, the harness admin (no posts) comes first, then writer and idle.
      const all = await t.request('GET', '/api/v1/users?include=posts&sort=id');
      expect(all.status).toBe(200);
      expect(all.body.data.map((user: any) => user.id)).toEqual([t.admin.id, writer.id, idle.id]);
      expect(all.body.data[0].posts).toEqual([]);
      expect(all.body.data[1].posts.map((post: any) => post.id)).toEqual([draft.id, published.id]);
      expect(all.body.data[1].posts[0]).toEqual(draft);
      expect(all.body.data[2].posts).toEqual([]);

      const onlyPublished = await t.request('GET', '/api/v1/users?include=posts&published=true&sort=id');
      expect(onlyPublished.body.meta.total).toBe(3);
      expect(onlyPublished.body.data[1].posts.map((post: any) => post.id)).toEqual([published.id]);
      expect(onlyPublished.body.data[2].posts).toEqual([]);

      const onlyDrafts = await t.request('GET', '/api/v1/users?include=posts&published=false&sort=id');
      expect(onlyDrafts.body.data[1].posts.map((post: any) => post.id)).toEqual([draft.id]);
    });

    // Counted after the guard's session check of the harness admin's token (one statement, outside any transaction);
    // the admin sees the drafts, so the posts query has rows to embed.
    it('runs 2 statements, or 3 with include=posts, whatever the page size', async () => {
      for (let i = 0; i < 6; i++) {
        const user = await createUser(t);
        await createPost(t, user.id);
        await createPost(t, user.id);
      }
      for (const path of ['/api/v1/users?limit=1', '/api/v1/users?limit=6']) {
        const { result, statements } = await t.captureStatements(() => t.request('GET', path));
        expect(result.status).toBe(200);
        expect(afterSessionProbe(statements)).toHaveLength(2);
      }
      for (const path of ['/api/v1/users?include=posts&limit=1', '/api/v1/users?include=posts&limit=6&published=false']) {
        const { result, statements } = await t.captureStatements(() => t.request('GET', path));
        expect(result.status).toBe(200);
        expect(result.body.data.flatMap((user: any) => user.posts)).not.toEqual([]);
        expect(afterSessionProbe(statements)).toHaveLength(3);
        expect(statements.some((sql) => /BEGIN|START TRANSACTION/i.test(sql))).toBe(false);
      }
    });

    it.each([
      'limit=0',
      'limit=101',
      'limit=abc',
      'limit=1.5',
      'limit=',
      'limit=1&limit=2',
      'limit=99999999999999999999999',
      'offset=-1',
      'offset=2147483648',
      'offset=1e3',
      'sort=password',
      'sort=name,name',
      'sort=name,',
      'sort=--name',
      'sort=name;DROP TABLE users',
      'sort=',
      'role=root',
      'email=not-an-email',
      'include=comments',
      'include=posts&published=yes',
      'published=true',
      'deleted=true',
      'where[id]=1',
    ])('400 for %s', async (query) => {
      expectApiError(await t.request('GET', `/api/v1/users?${query}`), 400);
    });
  });

  describe('GET /users/:id', () => {
    it('returns the user in one statement', async () => {
      const user = await createUser(t);
      const { result, statements } = await t.captureStatements(() => t.request('GET', `/api/v1/users/${user.id}`));
      expect(result.status).toBe(200);
      expect(result.body).toEqual(user);
      expect(afterSessionProbe(statements)).toHaveLength(1);
    });

    it('include=posts embeds live posts (published filter too) with their count, in one more statement', async () => {
      const user = await createUser(t);
      const first = await createPost(t, user.id, { published: true });
      const second = await createPost(t, user.id);
      const deleted = await createPost(t, user.id);
      await t.request('DELETE', `/api/v1/posts/${deleted.id}`);

      const { result, statements } = await t.captureStatements(() => t.request('GET', `/api/v1/users/${user.id}?include=posts`));
      expect(result.status).toBe(200);
      expect(result.body).toEqual({ ...user, postCount: 2, posts: [second, first] });
      expect(afterSessionProbe(statements)).toHaveLength(2);

      const drafts = await t.request('GET', `/api/v1/users/${user.id}?include=posts&published=false`);
      expect(drafts.body).toMatchObject({ postCount: 1, posts: [second] });
      const newest = await t.request('GET', `/api/v1/users/${user.id}?include=posts&postsLimit=1`);
      expect(newest.body).toMatchObject({ postCount: 2, posts: [second] });
      const none = await t.request('GET', `/api/v1/users/${(await createUser(t)).id}?include=posts`);
      expect(none.body).toMatchObject({ postCount: 0, posts: [] });
    });

    it('404 for a missing or deleted user', async () => {
      expectApiError(await t.request('GET', `/api/v1/users/${NO_SUCH_USER}`), 404);
      const user = await createUser(t);
      await t.request('DELETE', `/api/v1/users/${user.id}`);
      expectApiError(await t.request('GET', `/api/v1/users/${user.id}`), 404);
    });

    // Anonymous: a token would be checked (one statement) before the id is.
    it.each(['abc', '1.5', '0', '-1', '2147483648', '99999999999999999999', '1e3', '0x10', '%20'])(
      '400 for the id %s, without touching the database',
      async (id) => {
        const { result, statements } = await t.captureStatements(() => t.request('GET', `/api/v1/users/${id}`, { as: null }));
        expectApiError(result, 400);
        expect(statements).toHaveLength(0);
      },
    );

    it('400 for unknown or invalid query parameters', async () => {
      const user = await createUser(t);
      expectApiError(await t.request('GET', `/api/v1/users/${user.id}?include=comments`), 400);
      expectApiError(await t.request('GET', `/api/v1/users/${user.id}?limit=5`), 400);
      expectApiError(await t.request('GET', `/api/v1/users/${user.id}?published=true`), 400);
    });
  });

  describe('PATCH /users/:id', () => {
    it('updates the given fields only, normalising the email', async () => {
      const user = await createUser(t, { name: 'Before' });
      await new Promise((resolve) => setTimeout(resolve, 5));
      const response = await t.request('PATCH', `/api/v1/users/${user.id}`, { body: { email: ' New@Example.com', role: 'admin' } });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: user.id, name: 'Before', email: 'new@example.com', role: 'admin' });
      expect(response.body.createdAt).toBe(user.createdAt);
      expect(Date.parse(response.body.updatedAt)).toBeGreaterThan(Date.parse(user.updatedAt));
      expect((await t.request('GET', `/api/v1/users/${user.id}`)).body).toEqual(response.body);
    });

    it('an empty body changes nothing', async () => {
      const user = await createUser(t);
      const response = await t.request('PATCH', `/api/v1/users/${user.id}`, { body: {} });
      expect(response.status).toBe(200);
      expect(response.body).toEqual(user);
    });

    it.each([
      ['name too short', { name: 'A' }],
      ['null name', { name: null }],
      ['invalid email', { email: 'nope' }],
      ['unknown role', { role: 'owner' }],
      ['unknown property', { deletedAt: null }],
    ])('400 for %s', async (_case, body) => {
      const user = await createUser(t);
      expectApiError(await t.request('PATCH', `/api/v1/users/${user.id}`, { body }), 400);
      expect((await t.request('GET', `/api/v1/users/${user.id}`)).body).toEqual(user);
    });

    it('400 for an invalid id', async () => {
      expectApiError(await t.request('PATCH', '/api/v1/users/abc', { body: { name: 'Valid' } }), 400);
    });

    it('404 for a missing or deleted user', async () => {
      expectApiError(await t.request('PATCH', `/api/v1/users/${NO_SUCH_USER}`, { body: { name: 'Valid' } }), 404);
      const user = await createUser(t);
      await t.request('DELETE', `/api/v1/users/${user.id}`);
      expectApiError(await t.request('PATCH', `/api/v1/users/${user.id}`, { body: { name: 'Valid' } }), 404);
    });

    it('409 when the new email belongs to another live user', async () => {
      await createUser(t, { email: 'first@example.com' });
      const second = await createUser(t);
      expectApiError(await t.request('PATCH', `/api/v1/users/${second.id}`, { body: { email: 'FIRST@example.com' } }), 409);
      // Keeping one's own email is not a conflict.
      const same = await t.request('PATCH', `/api/v1/users/${second.id}`, { body: { email: second.email.toUpperCase() } });
      expect(same.status).toBe(200);
    });
  });

  describe('DELETE /users/:id', () => {
    it('204, soft-deletes the user and its live posts with one timestamp', async () => {
      const user = await createUser(t);
      const other = await createUser(t);
      const post = await createPost(t, user.id);
      const otherPost = await createPost(t, other.id);

      const response = await t.request('DELETE', `/api/v1/users/${user.id}`);
      expect(response.status).toBe(204);
      expect(response.body).toBe('');

      expectApiError(await t.request('GET', `/api/v1/posts/${post.id}`), 404);
      expect((await t.request('GET', `/api/v1/posts/${otherPost.id}`)).status).toBe(200);
      const [userRow] = await t.rows('SELECT "deletedAt" FROM users WHERE id = $1', [user.id]);
      const [postRow] = await t.rows('SELECT "deletedAt" FROM posts WHERE id = $1', [post.id]);
      expect(userRow.deletedAt).not.toBeNull();
      expect(postRow.deletedAt).toEqual(userRow.deletedAt);
    });

    it('404 for a missing user and for a second delete', async () => {
      expectApiError(await t.request('DELETE', `/api/v1/users/${NO_SUCH_USER}`), 404);
      const user = await createUser(t);
      expect((await t.request('DELETE', `/api/v1/users/${user.id}`)).status).toBe(204);
      expectApiError(await t.request('DELETE', `/api/v1/users/${user.id}`), 404);
    });

    it('400 for an invalid id', async () => {
      expectApiError(await t.request('DELETE', '/api/v1/users/1;DROP'), 400);
    });
  });

  describe('POST /users/:id/restore', () => {
    it('200, brings back the user and the posts deleted with it, not those deleted before', async () => {
      const user = await createUser(t);
      const keptPost = await createPost(t, user.id);
      const earlierDeleted = await createPost(t, user.id);
      await t.request('DELETE', `/api/v1/posts/${earlierDeleted.id}`);
      await t.request('DELETE', `/api/v1/users/${user.id}`);

      const response = await t.request('POST', `/api/v1/users/${user.id}/restore`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual(user);
      expect((await t.request('GET', `/api/v1/users/${user.id}`)).status).toBe(200);
      expect((await t.request('GET', `/api/v1/posts/${keptPost.id}`)).status).toBe(200);
      expectApiError(await t.request('GET', `/api/v1/posts/${earlierDeleted.id}`), 404);
    });

    it('200 and no change for a live user', async () => {
      const user = await createUser(t);
      const response = await t.request('POST', `/api/v1/users/${user.id}/restore`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual(user);
    });

    it('404 for an id that never existed', async () => {
      expectApiError(await t.request('POST', `/api/v1/users/${NO_SUCH_USER}/restore`), 404);
    });

    it('409 when the email has been taken since, and nothing is restored', async () => {
      const user = await createUser(t, { email: 'shared@example.com' });
      const post = await createPost(t, user.id);
      await t.request('DELETE', `/api/v1/users/${user.id}`);
      await createUser(t, { email: 'Shared@example.com' });

      const response = await t.request('POST', `/api/v1/users/${user.id}/restore`);
      expectApiError(response, 409);
      expect(response.body.message).toMatch(/email/);
      expectApiError(await t.request('GET', `/api/v1/users/${user.id}`), 404);
      expectApiError(await t.request('GET', `/api/v1/posts/${post.id}`), 404);
    });

    it('400 for an invalid id', async () => {
      expectApiError(await t.request('POST', '/api/v1/users/xyz/restore'), 400);
    });
  });

  describe('GET /users/:id/posts', () => {
    it("lists the user's live posts in the posts envelope, with the posts parameters", async () => {
      const user = await createUser(t);
      const other = await createUser(t);
      const a = await createPost(t, user.id, { title: 'Alpha', published: true });
      const b = await createPost(t, user.id, { title: 'Beta' });
      await createPost(t, other.id, { title: 'Alpha too' });

      const response = await t.request('GET', `/api/v1/users/${user.id}/posts`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ data: [b, a], meta: { total: 2, limit: 20, offset: 0, nextCursor: null } });

      const filtered = await t.request('GET', `/api/v1/users/${user.id}/posts?published=true&q=alp&sort=title&include=author`);
      expect(filtered.status).toBe(200);
      expect(filtered.body.data).toEqual([{ ...a, author: user }]);
      expect(filtered.body.meta.total).toBe(1);
    });

    it('runs a fixed number of statements', async () => {
      const user = await createUser(t);
      for (let i = 0; i < 4; i++) await createPost(t, user.id);
      for (const path of [`/api/v1/users/${user.id}/posts?limit=1`, `/api/v1/users/${user.id}/posts?limit=4&include=author`]) {
        const { result, statements } = await t.captureStatements(() => t.request('GET', path));
        expect(result.status).toBe(200);
        expect(afterSessionProbe(statements)).toHaveLength(3);
      }
    });

    it('404 for a missing or deleted user', async () => {
      expectApiError(await t.request('GET', `/api/v1/users/${NO_SUCH_USER}/posts`), 404);
      const user = await createUser(t);
      await t.request('DELETE', `/api/v1/users/${user.id}`);
      expectApiError(await t.request('GET', `/api/v1/users/${user.id}/posts`), 404);
    });

    it('400 for an invalid id or query parameter', async () => {
      const user = await createUser(t);
      expectApiError(await t.request('GET', '/api/v1/users/x/posts'), 400);
      expectApiError(await t.request('GET', `/api/v1/users/${user.id}/posts?authorId=${user.id}`), 400);
      expectApiError(await t.request('GET', `/api/v1/users/${user.id}/posts?sort=email`), 400);
      expectApiError(await t.request('GET', `/api/v1/users/${user.id}/posts?limit=500`), 400);
    });
  });

  describe('GET /users/stats/top-authors', () => {
    it('counts live published posts of live users, ordered by postCount then id, postCount a number', async () => {
      const one = await createUser(t);
      const three = await createUser(t);
      const zero = await createUser(t);
      const alsoOne = await createUser(t);
      const deleted = await createUser(t);
      const published = { published: true };
      for (let i = 0; i < 3; i++) await createPost(t, three.id, published);
      await createPost(t, one.id, published);
      await createPost(t, alsoOne.id, published);
      // Drafts are nobody else's business, not even as a count.
      for (let i = 0; i < 4; i++) await createPost(t, zero.id);
      const removed = await createPost(t, alsoOne.id, published);
      await t.request('DELETE', `/api/v1/posts/${removed.id}`);
      for (let i = 0; i < 5; i++) await createPost(t, deleted.id, published);
      await t.request('DELETE', `/api/v1/users/${deleted.id}`);

      const admin = (await t.request('GET', `/api/v1/users/${t.admin.id}`)).body;
      const { result, statements } = await t.captureStatements(() => t.request('GET', '/api/v1/users/stats/top-authors'));
      expect(result.status).toBe(200);
      expect(result.body).toEqual({
        data: [
          { id: three.id, name: three.name, postCount: 3 },
          { id: one.id, name: one.name, postCount: 1 },
          { id: alsoOne.id, name: alsoOne.name, postCount: 1 },
          // The harness admin is a live user without posts, with a smaller id than zero's.
          { id: t.admin.id, name: admin.name, postCount: 0 },
          { id: zero.id, name: zero.name, postCount: 0 },
        ],
      });
      const route = afterSessionProbe(statements);
      expect(route).toHaveLength(1);
      // The limit travels as a bound parameter, not inside the SQL text.
      expect(route[0]).toMatch(/LIMIT \$1/);

      const top2 = await t.request('GET', '/api/v1/users/stats/top-authors?limit=2');
      expect(top2.body.data.map((row: any) => row.id)).toEqual([three.id, one.id]);
    });

    it.each(['limit=0', 'limit=101', 'limit=ten', 'offset=1', 'limit=1;SELECT'])('400 for %s', async (query) => {
      expectApiError(await t.request('GET', `/api/v1/users/stats/top-authors?${query}`), 400);
    });
  });
});
