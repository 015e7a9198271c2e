/**
 * A post's tags through real HTTP: PUT /posts/:id/tags replaces the whole set in one transaction (unknown names
 * created, case-insensitively unique), GET /posts?tag= filters by one, GET /tags counts live published posts.
 */
import { createPost, createUser, expectApiError } from './utils/fixtures';
import { whileWriteUnderWay } from './utils/lock-wait';
import { createTestApp, type TestApp } from './utils/test-app';

const BEGIN = /^(START TRANSACTION|BEGIN)/;

describe('Post tags (e2e)', () => {
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

  const put = (postId: number, tags: unknown, as?: string | null) => t.request('PUT', `/api/v1/posts/${postId}/tags`, { body: { tags }, ...(as !== undefined && { as }) });
  const tagsOf = (postId: number) =>
    t.rows<{ name: string }>('SELECT t.name FROM post_tags pt JOIN tags t ON t.id = pt."tagId" WHERE pt."postId" = $1 ORDER BY t.name', [postId]);

  describe('PUT /posts/:id/tags', () => {
    it('200: the set becomes exactly these names (created when new, one tag per name whatever its case), in one transaction', async () => {
      const author = await createUser(t);
      const post = await createPost(t, author.id, { published: true });
      const first = await put(post.id, ['NestJS', 'sequelize', ' nestjs ']);
      expect(first.status).toBe(200);
      expect(first.body.data.map((tag: { name: string }) => tag.name)).toEqual(['nestjs', 'sequelize']);

      const { result, statements } = await t.captureStatements(() => put(post.id, ['Sequelize', 'postgres']));
      expect(result.body.data.map((tag: { name: string }) => tag.name)).toEqual(['postgres', 'sequelize']);
      expect(statements.filter((sql) => BEGIN.test(sql))).toHaveLength(1);
      expect(statements.at(-1)).toMatch(/^COMMIT/);
      expect(await tagsOf(post.id)).toEqual([{ name: 'postgres' }, { name: 'sequelize' }]);
      // The same tag rows are reused: three names so far, three tags.
      expect(await t.rows('SELECT name FROM tags ORDER BY name')).toEqual([{ name: 'nestjs' }, { name: 'postgres' }, { name: 'sequelize' }]);
      // Each link change is audited: nestjs removed, postgres added, in one statement each.
      const audit = await t.rows<{ action: string; rowId: string }>(
        `SELECT action, "rowId" FROM audit_events WHERE "tableName" = 'post_tags' AND "requestId" = $1 ORDER BY action`,
        [result.headers.get('x-request-id')],
      );
      expect(audit.map((event) => event.action)).toEqual(['create', 'delete']);
      expect(statements.filter((sql) => /^\s*INSERT INTO audit_events/.test(sql))).toHaveLength(3);

      expect((await put(post.id, [])).body).toEqual({ data: [] });
      expect(await tagsOf(post.id)).toEqual([]);
    });

    it('400 for a body that is not a list of up to 20 names of 1–50 characters; nothing changes', async () => {
      const post = await createPost(t, (await createUser(t)).id);
      await put(post.id, ['kept']);
      for (const tags of ['one', [''], ['x'.repeat(51)], Array.from({ length: 21 }, (_, i) => `t${i}`), [1], ['a\u0007b'], null]) {
        expectApiError(await put(post.id, tags), 400);
      }
      expectApiError(await t.request('PUT', `/api/v1/posts/${post.id}/tags`, { body: { tags: [], extra: 1 } }), 400);
      expect(await tagsOf(post.id)).toEqual([{ name: 'kept' }]);
    });

    it('401 anonymous, 403 for another user, 404 for a missing post or a draft the caller cannot see', async () => {
      const author = await createUser(t);
      const published = await createPost(t, author.id, { published: true });
      const draft = await createPost(t, author.id, { published: false });
      const stranger = await t.tokenFor(await createUser(t));
      expectApiError(await put(published.id, ['x'], null), 401);
      expectApiError(await put(published.id, ['x'], stranger), 403);
      expectApiError(await put(draft.id, ['x'], stranger), 404);
      expectApiError(await put(2_147_483_647, ['x']), 404);
      expect((await put(published.id, ['mine'], await t.tokenFor(author))).status).toBe(200);
      expect(await t.rows('SELECT name FROM tags')).toEqual([{ name: 'mine' }]);
    });
  });

  it('a tag deleted while a post is being tagged with its name: the request waits, then links a new live tag of that name', async () => {
    const post = await createPost(t, (await createUser(t)).id, { published: true });
    expect((await put(post.id, ['doomed'])).status).toBe(200);
    const [{ id: doomed }] = await t.rows<{ id: number }>(`SELECT id FROM tags WHERE name = 'doomed'`);
    const other = await createPost(t, (await createUser(t)).id, { published: true });

    // The tag's deletion under way while the post is tagged.
    const response = await whileWriteUnderWay(t, 'UPDATE tags SET "deletedAt" = now() WHERE id = $1', [doomed], () => put(other.id, ['doomed']));
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual([expect.objectContaining({ name: 'doomed' })]);
    expect(response.body.data[0].id).not.toBe(doomed);
    expect(await t.rows('SELECT t."deletedAt" IS NULL AS live FROM post_tags pt JOIN tags t ON t.id = pt."tagId" WHERE pt."postId" = $1', [other.id])).toEqual([{ live: true }]);
  });

  describe('GET /posts?tag= and GET /tags', () => {
    it('filters the posts the caller may see by one tag, case-insensitively; an unknown tag is an empty page', async () => {
      const author = await createUser(t);
      const [a, b, draft] = [
        await createPost(t, author.id, { published: true }),
        await createPost(t, author.id, { published: true }),
        await createPost(t, author.id, { published: false }),
      ];
      await put(a.id, ['orm']);
      await put(b.id, ['other']);
      await put(draft.id, ['orm']);
      const anonymous = await t.request('GET', '/api/v1/posts?tag=ORM', { as: null });
      expect(anonymous.body.data.map((post: { id: number }) => post.id)).toEqual([a.id]);
      expect(anonymous.body.meta.total).toBe(1);
      const admin = await t.request('GET', '/api/v1/posts?tag=orm');
      expect(admin.body.data.map((post: { id: number }) => post.id).sort()).toEqual([a.id, draft.id].sort());
      expect((await t.request('GET', '/api/v1/posts?tag=nothing')).body).toEqual({ data: [], meta: { total: 0, limit: 20, offset: 0, nextCursor: null } });
      expectApiError(await t.request('GET', `/api/v1/posts?tag=${'x'.repeat(51)}`), 400);
    });

    it('counts the live published posts of each tag: drafts, deleted posts and deleted tags left out', async () => {
      const author = await createUser(t);
      const [a, b, draft] = [
        await createPost(t, author.id, { published: true }),
        await createPost(t, author.id, { published: true }),
        await createPost(t, author.id, { published: false }),
      ];
      for (const post of [a, b, draft]) await put(post.id, ['counted']);
      await put(a.id, ['counted', 'gone']);
      expect((await t.request('DELETE', `/api/v1/posts/${b.id}`)).status).toBe(204);
      const tags = await t.request('GET', '/api/v1/tags?sort=name', { as: null });
      expect(tags.body.data.map((tag: { name: string; postCount: number }) => [tag.name, tag.postCount])).toEqual([
        ['counted', 1],
        ['gone', 1],
      ]);
      const gone = tags.body.data[1].id as number;
      expect((await t.request('DELETE', `/api/v1/tags/${gone}`)).status).toBe(204);
      expect((await t.request('GET', '/api/v1/posts?tag=gone')).body.meta.total).toBe(0);
      expect((await t.request('GET', '/api/v1/tags')).body.data.map((tag: { name: string }) => tag.name)).toEqual(['counted']);
    });
  });
});
