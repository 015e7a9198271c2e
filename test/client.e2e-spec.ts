/**
 * The main flows through the client generated from openapi.json (openapi-typescript + openapi-fetch), against the
 * running app: what a consumer of the document gets, type-checked by `tsc` and checked against the document at
 * run time (see test/client/api-client.ts). The resource flows run as the harness's admin (its bearer token goes
 * through the client's auth middleware); the account walk gets its tokens from the API itself.
 */
import { createApiClient, type ApiClient, type Schemas } from './client/api-client';
import { createTestApp, type TestApp } from './utils/test-app';

describe('Typed client generated from openapi.json (e2e)', () => {
  let t: TestApp;
  let api: ApiClient;

  beforeAll(async () => {
    t = await createTestApp();
    api = createApiClient(t.baseUrl, { accessToken: t.admin.token });
  });

  afterAll(async () => {
    await t.close();
  });

  beforeEach(async () => {
    await t.truncate();
  });

  /** Unwraps a success, failing with the error body otherwise; the data keeps its generated type. */
  function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
    if (result.data === undefined) {
      throw new Error(`Expected success, got ${result.response.status}: ${JSON.stringify(result.error)}`);
    }
    return result.data;
  }

  async function createUser(name: string, email: string): Promise<Schemas['User']> {
    return ok(await api.POST('/api/v1/users', { body: { name, email } }));
  }

  it('creates a user, and reports a taken email as a typed 409', async () => {
    const ada = await createUser('Ada Lovelace', 'Ada@Example.com');
    expect(ada).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', role: 'user' });

    const again = await api.POST('/api/v1/users', { body: { name: 'Ada Again', email: 'ada@example.com' } });
    expect(again.response.status).toBe(409);
    expect(again.data).toBeUndefined();
    // The error is typed as the shared ErrorResponse.
    const error: Schemas['ErrorResponse'] | undefined = again.error;
    expect(error).toMatchObject({ statusCode: 409, error: 'Conflict' });
  });

  it('walks a conditional update: GET for the ETag, PATCH with If-Match, a stale tag typed as 412', async () => {
    const ada = await createUser('Ada Lovelace', 'ada@example.com');
    const post = ok(await api.POST('/api/v1/posts', { body: { title: 'Notes', body: 'On the engine', authorId: ada.id } }));
    const read = await api.GET('/api/v1/posts/{id}', { params: { path: { id: post.id } } });
    const tag = read.response.headers.get('etag')!;
    expect(tag).toBe(`"${post.id}.0"`);

    const notModified = await api.GET('/api/v1/posts/{id}', { params: { path: { id: post.id }, header: { 'If-None-Match': tag } } });
    expect(notModified.response.status).toBe(304);

    const changed = await api.PATCH('/api/v1/posts/{id}', { params: { path: { id: post.id }, header: { 'If-Match': tag } }, body: { title: 'Notes, revised' } });
    expect(ok(changed).title).toBe('Notes, revised');
    expect(changed.response.headers.get('etag')).toBe(`"${post.id}.1"`);

    const stale = await api.PATCH('/api/v1/posts/{id}', { params: { path: { id: post.id }, header: { 'If-Match': tag } }, body: { title: 'Lost' } });
    expect(stale.response.status).toBe(412);
    const error: Schemas['ErrorResponse'] | undefined = stale.error;
    expect(error).toMatchObject({ statusCode: 412, error: 'Precondition Failed' });
    expect(stale.response.headers.get('etag')).toBe(`"${post.id}.1"`);
  });

  it('retries a POST with its Idempotency-Key: the replay is the same typed 201, marked, and nothing is written twice', async () => {
    const ada = await createUser('Ada Lovelace', 'ada@example.com');
    const send = () =>
      api.POST('/api/v1/posts', { params: { header: { 'Idempotency-Key': 'notes-1' } }, body: { title: 'Notes', body: 'On the engine', authorId: ada.id } });
    const first = await send();
    const created = ok(first);
    expect(first.response.headers.get('idempotent-replayed')).toBeNull();
    const retry = await send();
    expect(retry.response.status).toBe(201);
    expect(retry.response.headers.get('idempotent-replayed')).toBe('true');
    expect(ok(retry)).toEqual(created);
    expect(await t.rows('SELECT id FROM posts WHERE "authorId" = $1', [ada.id])).toEqual([{ id: created.id }]);
  });

  it('creates a user with posts, then lists users with their published posts only', async () => {
    const created = ok(
      await api.POST('/api/v1/users/with-posts', {
        body: {
          name: 'Grace Hopper',
          email: 'grace@example.com',
          role: 'admin',
          posts: [
            { title: 'COBOL', body: 'Business language', published: true },
            { title: 'Draft', body: 'Not yet' },
          ],
        },
      }),
    );
    expect(created.role).toBe('admin');
    expect(created.posts.map((post) => [post.title, post.published, post.authorId])).toEqual([
      ['COBOL', true, created.id],
      ['Draft', false, created.id],
    ]);
    await createUser('Alan Turing', 'alan@example.com');

    const page = ok(
      await api.GET('/api/v1/users', { params: { query: { include: 'posts', published: true, sort: 'name', limit: 10 } } }),
    );
    // The harness's admin is a user too (without posts).
    expect(page.meta).toEqual({ total: 3, limit: 10, offset: 0, nextCursor: null });
    expect(page.data.map((user) => [user.name, user.posts?.map((post) => post.title)])).toEqual([
      ['Alan Turing', []],
      ['Grace Hopper', ['COBOL']],
      ['Harness Admin', []],
    ]);

    const posts = ok(await api.GET('/api/v1/posts', { params: { query: { include: 'author', q: 'cob' } } }));
    expect(posts.data.map((post) => [post.title, post.author?.email])).toEqual([['COBOL', 'grace@example.com']]);
  });

  it('updates, deletes and restores a user with its posts', async () => {
    const user = await createUser('Edsger', 'edsger@example.com');
    const post = ok(await api.POST('/api/v1/posts', { body: { title: 'GOTO', body: 'Considered harmful', authorId: user.id } }));
    const path = { params: { path: { id: user.id } } };

    const updated = ok(await api.PATCH('/api/v1/users/{id}', { ...path, body: { name: 'Edsger Dijkstra' } }));
    expect(updated).toMatchObject({ id: user.id, name: 'Edsger Dijkstra', email: 'edsger@example.com' });

    const deleted = await api.DELETE('/api/v1/users/{id}', path);
    expect(deleted.response.status).toBe(204);
    expect((await api.GET('/api/v1/users/{id}', path)).response.status).toBe(404);
    expect((await api.GET('/api/v1/posts/{id}', { params: { path: { id: post.id } } })).response.status).toBe(404);

    const restored = ok(await api.POST('/api/v1/users/{id}/restore', path));
    expect(restored).toMatchObject({ id: user.id, name: 'Edsger Dijkstra' });
    const posts = ok(await api.GET('/api/v1/users/{id}/posts', path));
    expect(posts.data.map((item) => item.id)).toEqual([post.id]);
  });

  it('updates, deletes and restores a post; a missing author is a typed 422', async () => {
    const user = await createUser('Barbara Liskov', 'barbara@example.com');
    const post = ok(await api.POST('/api/v1/posts', { body: { title: 'Substitution', body: 'Subtypes', authorId: user.id } }));
    const path = { params: { path: { id: post.id } } };

    expect(ok(await api.PATCH('/api/v1/posts/{id}', { ...path, body: { published: true } })).published).toBe(true);
    const orphan = await api.PATCH('/api/v1/posts/{id}', { ...path, body: { authorId: user.id + 1000 } });
    expect(orphan.response.status).toBe(422);
    expect(orphan.error?.statusCode).toBe(422);

    expect((await api.DELETE('/api/v1/posts/{id}', path)).response.status).toBe(204);
    expect(ok(await api.POST('/api/v1/posts/{id}/restore', path))).toMatchObject({ id: post.id, published: true });
  });

  it('reports top authors by live published post count', async () => {
    const prolific = await createUser('Donald Knuth', 'knuth@example.com');
    const quiet = await createUser('Quiet One', 'quiet@example.com');
    for (const title of ['TAOCP 1', 'TAOCP 2']) {
      ok(await api.POST('/api/v1/posts', { body: { title, body: 'Volume', authorId: prolific.id, published: true } }));
    }
    // Drafts do not count (the report is public, and drafts are private to their authors).
    ok(await api.POST('/api/v1/posts', { body: { title: 'TAOCP 4C', body: 'Draft', authorId: prolific.id } }));
    ok(await api.POST('/api/v1/posts', { body: { title: 'Unfinished', body: 'Draft', authorId: quiet.id } }));
    const stats = ok(await api.GET('/api/v1/users/stats/top-authors', { params: { query: { limit: 3 } } }));
    // Ties in post count go by id: the harness's admin (no posts) was created before the others.
    expect(stats.data).toEqual([
      { id: prolific.id, name: 'Donald Knuth', postCount: 2 },
      { id: t.admin.id, name: 'Harness Admin', postCount: 0 },
      { id: quiet.id, name: 'Quiet One', postCount: 0 },
    ]);
  });

  it('bulk-upserts users by email: new ones created, existing ones renamed with their role kept', async () => {
    const admin = ok(await api.POST('/api/v1/users', { body: { name: 'Old Name', email: 'admin@example.com', role: 'admin' } }));
    const result = ok(
      await api.POST('/api/v1/users/bulk', {
        body: {
          users: [
            { name: 'New Name', email: 'ADMIN@example.com', role: 'user' },
            { name: 'Newcomer', email: 'new@example.com' },
          ],
        },
      }),
    );
    expect(result.data.map((user) => [user.id === admin.id, user.name, user.email, user.role])).toEqual([
      [true, 'New Name', 'admin@example.com', 'admin'],
      [false, 'Newcomer', 'new@example.com', 'user'],
    ]);
    const invalid = await api.POST('/api/v1/users/bulk', { body: { users: [] } });
    expect(invalid.response.status).toBe(400);
  });

  it('walks an account through register → login → create post → refresh → logout, after which its tokens are refused', async () => {
    // A consumer's client: anonymous until it holds a token, then sending whichever access token it holds now.
    let accessToken: string | undefined;
    const client = createApiClient(t.baseUrl, { accessToken: () => accessToken });
    const credentials = { email: 'Walker@Example.com', password: 'a long enough passphrase' };

    const registered = ok(await client.POST('/api/v1/auth/register', { body: { name: 'Walker', ...credentials } }));
    expect(registered).toMatchObject({ tokenType: 'Bearer', user: { name: 'Walker', email: 'walker@example.com', role: 'user' } });
    expect(registered.expiresIn).toBeGreaterThan(0);
    const me = registered.user;

    // Logging in opens a second session, with tokens of its own.
    const login = await client.POST('/api/v1/auth/login', { body: credentials });
    expect(login.response.status).toBe(200);
    const loggedIn = ok(login);
    expect(loggedIn.user).toEqual(me);
    expect([loggedIn.accessToken, loggedIn.refreshToken]).not.toContain(registered.accessToken);
    expect(loggedIn.refreshToken).not.toBe(registered.refreshToken);
    accessToken = loggedIn.accessToken;

    // No authorId: the post is the caller's; a draft its author can read back.
    const post = ok(await client.POST('/api/v1/posts', { body: { title: 'Walked', body: 'Step by step' } }));
    expect(post).toMatchObject({ title: 'Walked', authorId: me.id, published: false });
    expect(ok(await client.GET('/api/v1/posts/{id}', { params: { path: { id: post.id } } })).id).toBe(post.id);

    const refreshed = ok(await client.POST('/api/v1/auth/refresh', { body: { refreshToken: loggedIn.refreshToken } }));
    expect(refreshed.user).toEqual(me);
    expect(refreshed.refreshToken).not.toBe(loggedIn.refreshToken);
    accessToken = refreshed.accessToken;
    expect(ok(await client.GET('/api/v1/auth/me'))).toEqual(me);
    expect(ok(await client.PATCH('/api/v1/posts/{id}', { params: { path: { id: post.id } }, body: { published: true } })).published).toBe(true);

    const logout = await client.POST('/api/v1/auth/logout');
    expect(logout.response.status).toBe(204);

    // Both access tokens of the ended session are refused at once, on a write and on a read of one's own account.
    for (const token of [refreshed.accessToken, loggedIn.accessToken]) {
      accessToken = token;
      const write = await client.POST('/api/v1/posts', { body: { title: 'Too late', body: 'Logged out' } });
      expect(write.response.status).toBe(401);
      expect(write.error).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
      expect(write.response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
      expect((await client.GET('/api/v1/auth/me')).response.status).toBe(401);
    }
    // Neither refresh token of that session gets new tokens: the last one issued, nor the one it replaced.
    accessToken = undefined;
    for (const refreshToken of [refreshed.refreshToken, loggedIn.refreshToken]) {
      const again = await client.POST('/api/v1/auth/refresh', { body: { refreshToken } });
      expect(again.response.status).toBe(401);
      expect(again.data).toBeUndefined();
    }
    // Nothing was written with the dead tokens (the admin sees drafts too).
    const posts = ok(await api.GET('/api/v1/users/{id}/posts', { params: { path: { id: me.id } } }));
    expect(posts.data.map((item) => item.title)).toEqual(['Walked']);

    // Logout ended that session only: the one registration opened still works.
    accessToken = registered.accessToken;
    expect(ok(await client.GET('/api/v1/auth/me'))).toEqual(me);
    const other = ok(await client.POST('/api/v1/auth/refresh', { body: { refreshToken: registered.refreshToken } }));
    expect(other.user.id).toBe(me.id);
  });

  it('reads health', async () => {
    expect(ok(await api.GET('/health'))).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });
});

/**
 * Never called: `tsc` (npm run typecheck, and CI's client step) fails if the generated types stop rejecting these,
 * i.e. if the document loses the types that make the client worth having.
 */
export function generatedTypesRejectWrongCalls(api: ApiClient): void {
  // @ts-expect-error limit is an integer, not a string
  void api.GET('/api/v1/users', { params: { query: { limit: 'ten' } } });
  // @ts-expect-error role is 'user' or 'admin'
  void api.POST('/api/v1/users', { body: { name: 'Root', email: 'root@example.com', role: 'root' } });
  // @ts-expect-error a post needs its body (authorId may be left out: it defaults to the caller)
  void api.POST('/api/v1/posts', { body: { title: 'Bodiless', authorId: 1 } });
  // @ts-expect-error a post's title is a string
  void api.POST('/api/v1/posts', { body: { title: 42, body: 'Typed' } });
  // @ts-expect-error registering needs a password
  void api.POST('/api/v1/auth/register', { body: { name: 'Ada', email: 'ada@example.com' } });
  // @ts-expect-error a refresh sends the refresh token, nothing else
  void api.POST('/api/v1/auth/refresh', { body: {} });
  // @ts-expect-error the id is a path parameter that must be given
  void api.GET('/api/v1/users/{id}', {});
  // @ts-expect-error there is no such operation
  void api.PUT('/api/v1/users/{id}', { params: { path: { id: 1 } } });
}

/**
 * Never called either: `email` is shown to the user themselves and to admins only, so the generated type makes a
 * consumer handle its absence.
 */
export function generatedTypesMakeEmailOptional(user: Schemas['User']): string {
  // @ts-expect-error a user read by someone else has no email
  const email: string = user.email;
  return email;
}
