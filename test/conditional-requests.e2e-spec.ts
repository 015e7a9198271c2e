/**
 * Conditional requests (issue 15, RFC 9110 §13) through real HTTP: ETag on the GET of one versioned resource, 304 for
 * a current If-None-Match, If-Match on PATCH and DELETE (412 with the current tag when stale, nothing written), the
 * policy answering before the precondition, REQUIRE_IF_MATCH (428), and concurrent writers with one tag: one wins.
 */
import { createPost, createUser, expectApiError } from './utils/fixtures';
import { afterSessionProbe } from './utils/session-probe';
import { createTestApp, type TestApp } from './utils/test-app';

const TAG = /^"\d+\.\d+"$/;

describe('Conditional requests (e2e)', () => {
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

  async function postOf(ownerToken?: string): Promise<{ id: number; tag: string }> {
    const author = await createUser(t);
    const post = await createPost(t, author.id, { published: true });
    const read = await t.request('GET', `/api/v1/posts/${post.id}`, { as: ownerToken ?? null });
    expect(read.status).toBe(200);
    return { id: post.id, tag: read.headers.get('etag')! };
  }

  describe('GET and If-None-Match', () => {
    it('sends a strong ETag of id and version; the same tag until the row changes, another after', async () => {
      const { id, tag } = await postOf();
      expect(tag).toMatch(TAG);
      expect(tag).toBe(`"${id}.0"`);
      expect((await t.request('GET', `/api/v1/posts/${id}`, { as: null })).headers.get('etag')).toBe(tag);
      await t.request('PATCH', `/api/v1/posts/${id}`, { body: { title: 'Changed' } });
      expect((await t.request('GET', `/api/v1/posts/${id}`, { as: null })).headers.get('etag')).toBe(`"${id}.1"`);
    });

    it('304 without a body when If-None-Match names the current tag (weakly compared, or *); 200 otherwise', async () => {
      const { id, tag } = await postOf();
      for (const field of [tag, `W/${tag}`, `"other", ${tag}`, '*']) {
        const response = await t.request('GET', `/api/v1/posts/${id}`, { as: null, headers: { 'if-none-match': field } });
        expect(response.status).toBe(304);
        expect(response.body).toBe('');
        expect(response.headers.get('etag')).toBe(tag);
        // RFC 9110 §8.6: no Content-Length (it would describe a body that is not sent).
        expect(response.headers.get('content-length')).toBeNull();
      }
      const stale = await t.request('GET', `/api/v1/posts/${id}`, { as: null, headers: { 'if-none-match': `"${id}.7"` } });
      expect(stale.status).toBe(200);
      expect(stale.body.id).toBe(id);
    });

    it('400 for an If-None-Match that is not a list of entity tags', async () => {
      const { id } = await postOf();
      for (const field of ['12.0', '"unterminated', '"a" junk']) {
        expectApiError(await t.request('GET', `/api/v1/posts/${id}`, { as: null, headers: { 'if-none-match': field } }), 400);
      }
    });

    it('no tag when the representation embeds another resource, or leaves fields out for this caller', async () => {
      const user = await createUser(t);
      const post = await createPost(t, user.id, { published: true });
      expect((await t.request('GET', `/api/v1/posts/${post.id}?include=author`, { as: null })).headers.get('etag')).toBeNull();
      expect((await t.request('GET', `/api/v1/users/${user.id}?include=posts`)).headers.get('etag')).toBeNull();
      // A stranger's view has no email: not the representation the admin's tag names.
      expect((await t.request('GET', `/api/v1/users/${user.id}`, { as: null })).headers.get('etag')).toBeNull();
      expect((await t.request('GET', `/api/v1/users/${user.id}`)).headers.get('etag')).toBe(`"${user.id}.0"`);
      expect((await t.request('GET', `/api/v1/users/${user.id}`, { as: await t.tokenFor(user) })).headers.get('etag')).toBe(`"${user.id}.0"`);
    });
  });

  describe('If-Match on PATCH and DELETE', () => {
    it('a current tag: the write, answered with the new tag', async () => {
      const { id, tag } = await postOf();
      const response = await t.request('PATCH', `/api/v1/posts/${id}`, { body: { title: 'Mine' }, headers: { 'if-match': tag } });
      expect(response.status).toBe(200);
      expect(response.body.title).toBe('Mine');
      expect(response.headers.get('etag')).toBe(`"${id}.1"`);
      expect(await t.rows('SELECT title, version FROM posts WHERE id = $1', [id])).toEqual([{ title: 'Mine', version: 1 }]);
    });

    it('a stale tag: 412 naming the current tag (header and message), nothing written, no audit row', async () => {
      const { id, tag } = await postOf();
      await t.request('PATCH', `/api/v1/posts/${id}`, { body: { title: 'First' } });
      const audit = await t.rows('SELECT count(*)::int AS n FROM audit_events WHERE "rowId" = $1', [String(id)]);
      const response = await t.request('PATCH', `/api/v1/posts/${id}`, { body: { title: 'Lost update' }, headers: { 'if-match': tag } });
      expectApiError(response, 412);
      expect(response.headers.get('etag')).toBe(`"${id}.1"`);
      expect(response.body.message).toContain(`"${id}.1"`);
      expect(await t.rows('SELECT title, version FROM posts WHERE id = $1', [id])).toEqual([{ title: 'First', version: 1 }]);
      expect(await t.rows('SELECT count(*)::int AS n FROM audit_events WHERE "rowId" = $1', [String(id)])).toEqual(audit);
    });

    it('strong comparison: a weak tag never matches; * matches any current version; a list matches any member', async () => {
      const { id, tag } = await postOf();
      expectApiError(await t.request('PATCH', `/api/v1/posts/${id}`, { body: { title: 'W' }, headers: { 'if-match': `W/${tag}` } }), 412);
      expect((await t.request('PATCH', `/api/v1/posts/${id}`, { body: { title: 'Any' }, headers: { 'if-match': '*' } })).status).toBe(200);
      expect((await t.request('PATCH', `/api/v1/posts/${id}`, { body: { title: 'List' }, headers: { 'if-match': `"0.0", "${id}.1"` } })).status).toBe(200);
    });

    it('without If-Match the write goes through (the server does not require it by default)', async () => {
      const { id } = await postOf();
      expect((await t.request('PATCH', `/api/v1/posts/${id}`, { body: { title: 'Blind' } })).status).toBe(200);
    });

    it('DELETE: a stale tag is 412 and the post stays; the current one deletes it', async () => {
      const { id, tag } = await postOf();
      await t.request('PATCH', `/api/v1/posts/${id}`, { body: { title: 'Moved on' } });
      expectApiError(await t.request('DELETE', `/api/v1/posts/${id}`, { headers: { 'if-match': tag } }), 412);
      expect(await t.rows('SELECT "deletedAt" FROM posts WHERE id = $1', [id])).toEqual([{ deletedAt: null }]);
      expect((await t.request('DELETE', `/api/v1/posts/${id}`, { headers: { 'if-match': `"${id}.1"` } })).status).toBe(204);
    });

    it('the access policy answers first: 404 for a draft the caller may not see, 403 for a post not theirs, whatever the tag', async () => {
      const author = await createUser(t);
      const stranger = await t.tokenFor(await createUser(t));
      const draft = await createPost(t, author.id, { published: false });
      const published = await createPost(t, author.id, { published: true });
      const stale = { 'if-match': '"1.99"' };
      expectApiError(await t.request('PATCH', `/api/v1/posts/${draft.id}`, { body: { title: 'x' }, headers: stale, as: stranger }), 404);
      expectApiError(await t.request('PATCH', `/api/v1/posts/${published.id}`, { body: { title: 'x' }, headers: stale, as: stranger }), 403);
      expectApiError(await t.request('DELETE', `/api/v1/posts/${published.id}`, { headers: stale, as: stranger }), 403);
      expectApiError(await t.request('PATCH', '/api/v1/posts/2147483647', { body: { title: 'x' }, headers: stale }), 404);
    });

    it('400 for a malformed If-Match, before any statement of the write', async () => {
      const { id } = await postOf();
      const { result, statements } = await t.captureStatements(() => t.request('PATCH', `/api/v1/posts/${id}`, { body: { title: 'x' }, headers: { 'if-match': 'abc' } }));
      expectApiError(result, 400);
      expect(afterSessionProbe(statements)).toEqual([]);
    });

    it('users and comments take If-Match the same way; the audit trail does not record the version', async () => {
      const user = await createUser(t);
      const userTag = (await t.request('GET', `/api/v1/users/${user.id}`)).headers.get('etag')!;
      expect((await t.request('PATCH', `/api/v1/users/${user.id}`, { body: { name: 'Renamed' }, headers: { 'if-match': userTag } })).status).toBe(200);
      expectApiError(await t.request('PATCH', `/api/v1/users/${user.id}`, { body: { name: 'Again' }, headers: { 'if-match': userTag } }), 412);
      expectApiError(await t.request('DELETE', `/api/v1/users/${user.id}`, { headers: { 'if-match': userTag } }), 412);
      const [changes] = await t.rows('SELECT changes FROM audit_events WHERE "tableName" = $1 AND "rowId" = $2 AND action = $3', ['users', String(user.id), 'update']);
      expect(changes).toEqual({ changes: { name: 'Renamed' } });

      const { id: postId } = await postOf();
      const comment = await t.request('POST', `/api/v1/posts/${postId}/comments`, { body: { body: 'Hi' } });
      const read = await t.request('GET', `/api/v1/comments/${comment.body.id}`);
      expect(read.headers.get('etag')).toBe(`"${comment.body.id}.0"`);
      await t.request('PATCH', `/api/v1/comments/${comment.body.id}`, { body: { body: 'Edited' } });
      expectApiError(await t.request('PATCH', `/api/v1/comments/${comment.body.id}`, { body: { body: 'Lost' }, headers: { 'if-match': read.headers.get('etag')! } }), 412);
      expect(await t.rows('SELECT body FROM comments WHERE id = $1', [comment.body.id])).toEqual([{ body: 'Edited' }]);
    });
  });

  describe('writes outside an instance save', () => {
    it('a bulk upsert that renames a user changes its ETag: an If-Match read before it is stale', async () => {
      const user = await createUser(t);
      const before = (await t.request('GET', `/api/v1/users/${user.id}`)).headers.get('etag')!;
      const bulk = await t.request('POST', '/api/v1/users/bulk', { body: { users: [{ name: 'Bulk Renamed', email: user.email }] } });
      expect(bulk.status).toBeLessThan(300);
      const after = (await t.request('GET', `/api/v1/users/${user.id}`)).headers.get('etag')!;
      expect(after).not.toBe(before);
      expectApiError(await t.request('PATCH', `/api/v1/users/${user.id}`, { body: { name: 'Lost' }, headers: { 'if-match': before } }), 412);
      expect((await t.request('GET', `/api/v1/users/${user.id}`, { headers: { 'if-none-match': before } })).status).toBe(200);
    });

    it('tags have no version: If-Match * passes, any other tag is a 412 and nothing changes', async () => {
      const tag = await t.request('POST', '/api/v1/tags', { body: { name: 'nestjs' } });
      expect(tag.status).toBe(201);
      expectApiError(await t.request('PATCH', `/api/v1/tags/${tag.body.id}`, { body: { name: 'renamed' }, headers: { 'if-match': `"${tag.body.id}.0"` } }), 412);
      expectApiError(await t.request('DELETE', `/api/v1/tags/${tag.body.id}`, { headers: { 'if-match': '"x"' } }), 412);
      expect((await t.request('GET', `/api/v1/tags/${tag.body.id}`)).body.name).toBe('nestjs');
      expect((await t.request('PATCH', `/api/v1/tags/${tag.body.id}`, { body: { name: 'renamed' }, headers: { 'if-match': '*' } })).status).toBe(200);
    });

    it("a post's tag set has no version either: PUT /posts/:id/tags with If-Match * replaces it, any other tag is a 412 and nothing changes", async () => {
      const { id, tag } = await postOf();
      expect((await t.request('PUT', `/api/v1/posts/${id}/tags`, { body: { tags: ['first'] } })).status).toBe(200);
      const stale = await t.request('PUT', `/api/v1/posts/${id}/tags`, { body: { tags: ['second', 'third'] }, headers: { 'if-match': tag } });
      expectApiError(stale, 412);
      expect(await t.rows('SELECT t.name FROM post_tags pt JOIN tags t ON t.id = pt."tagId" WHERE pt."postId" = $1', [id])).toEqual([{ name: 'first' }]);
      // The tags the refused request would have created are not left behind either.
      expect(await t.rows("SELECT name FROM tags WHERE name IN ('second', 'third')")).toEqual([]);
      expectApiError(await t.request('PUT', `/api/v1/posts/${id}/tags`, { body: { tags: ['x'] }, headers: { 'if-match': 'not a tag' } }), 400);
      const replaced = await t.request('PUT', `/api/v1/posts/${id}/tags`, { body: { tags: ['second'] }, headers: { 'if-match': '*' } });
      expect(replaced.status).toBe(200);
      expect(replaced.body.data.map((entry: { name: string }) => entry.name)).toEqual(['second']);
    });
  });

  describe('concurrent writers with one tag', () => {
    it('20 PATCHes with the same If-Match: exactly one 200, 19 × 412, and the stored row is the winner', async () => {
      const { id, tag } = await postOf();
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, index) => t.request('PATCH', `/api/v1/posts/${id}`, { body: { title: `Writer ${index}` }, headers: { 'if-match': tag } })),
      );
      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => status === 412)).toHaveLength(19);
      const winner = responses.find((response) => response.status === 200)!;
      expect(await t.rows('SELECT title, version FROM posts WHERE id = $1', [id])).toEqual([{ title: winner.body.title, version: 1 }]);
      for (const loser of responses.filter((response) => response.status === 412)) expect(loser.headers.get('etag')).toBe(`"${id}.1"`);
    });
  });
});

describe('Conditional requests with REQUIRE_IF_MATCH (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { REQUIRE_IF_MATCH: 'true' } });
  });

  afterAll(async () => {
    await t.close();
  });

  it('428 for a PATCH or DELETE without If-Match, before any statement of the write; with it, the write', async () => {
    const author = await createUser(t);
    const post = await createPost(t, author.id, { published: true });
    const { result, statements } = await t.captureStatements(() => t.request('PATCH', `/api/v1/posts/${post.id}`, { body: { title: 'Blind' } }));
    expectApiError(result, 428);
    expect(afterSessionProbe(statements)).toEqual([]);
    expectApiError(await t.request('DELETE', `/api/v1/posts/${post.id}`), 428);
    const tag = (await t.request('GET', `/api/v1/posts/${post.id}`)).headers.get('etag')!;
    expect((await t.request('PATCH', `/api/v1/posts/${post.id}`, { body: { title: 'Seen' }, headers: { 'if-match': tag } })).status).toBe(200);
    // Creation has no version to match: POST is not conditional.
    expect((await t.request('POST', '/api/v1/posts', { body: { title: 'New', body: 'B', authorId: author.id } })).status).toBe(201);
  });
});
