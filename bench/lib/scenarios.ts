/**
 * The benchmark scenarios of issue 6. Each yields an endless stream of requests; random choices come
 * from the seeded live users, and every write carries a unique payload so no two requests are equal.
 * Reads are anonymous; every write is made by a random user with a login session, with their access
 * token, on their own behalf (issue 10: a user writes posts as themselves and changes only themselves).
 */
import type { AccessTokens, SessionUser } from './auth';
import type { RequestSpec } from './load';

export interface ScenarioContext {
  userIds: number[];
  /** The users with a live login session: the callers of every write. */
  sessions: SessionUser[];
  /** A revoked session (logout): its tokens are well signed but must be refused. */
  endedSession: SessionUser;
  tokens: AccessTokens;
  /** The deep page of the published posts (issue 15): its offset, and the cursor that starts at the same row. */
  deepPage: { offset: number; cursor: string };
}

export interface Scenario {
  name: string;
  concurrency: number;
  /** True when the scenario changes data (the harness vacuums afterwards). */
  writes: boolean;
  /** Requests for a load run. */
  generator(context: ScenarioContext): () => RequestSpec;
  /** The `q` terms it sends, whose plans the harness reports before the run. */
  searchTerms?: readonly string[];
}

let sequence = 0;
const runTag = Date.now().toString(36);

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}

const getUser = (ctx: ScenarioContext): RequestSpec => ({ method: 'GET', path: `/api/v1/users/${pick(ctx.userIds)}` });
const listUsers = (): RequestSpec => ({ method: 'GET', path: '/api/v1/users?include=posts&limit=20' });
const listPosts = (): RequestSpec => ({ method: 'GET', path: '/api/v1/posts?published=true&limit=20' });
// The deepest offset the app allows, or half the published posts on a small seed; the count is what an offset client
// gets by default, and what a cursor client does not ask for.
const deepPageByOffset = (ctx: ScenarioContext): RequestSpec => ({ method: 'GET', path: `/api/v1/posts?published=true&limit=20&offset=${ctx.deepPage.offset}` });
const deepPageByCursor = (ctx: ScenarioContext): RequestSpec => ({ method: 'GET', path: `/api/v1/posts?published=true&limit=20&cursor=${ctx.deepPage.cursor}` });
const searchPosts = (term: string): RequestSpec => ({ method: 'GET', path: `/api/v1/posts?q=${encodeURIComponent(term)}` });

/**
 * The search scenario's terms (issue 11), taken in turn. The seed (lib/database.ts) titles post g `Post g: <first 12
 * hex digits of md5(g)>` and ends its body with md5(g), so these match a handful of the default 50,000 posts, about 60 %
 * of them published: hex words (9, 12, 12 and 1 published matches; CAFE in capitals, as ILIKE ignores case), one title
 * (Post 31337), and two terms that match nothing: a short one with trigrams no post has, and the worst case of the
 * issue, a long sentence (most of its trigrams are in many posts) that no post contains. Every term is at least the
 * app's 3 characters.
 */
export const SEARCH_TERMS = [
  'beef',
  'CAFE',
  'babe',
  'decaf',
  'Post 31337:',
  'xyzzy',
  'Looking for a post that explains how to size the connection pool and set a statement timeout for a small service running on two cores next to its PostgreSQL server, with examples',
] as const;

function searchRotation(): () => RequestSpec {
  let turn = 0;
  return () => searchPosts(SEARCH_TERMS[turn++ % SEARCH_TERMS.length]);
}

/** A unique post; without `authorId` the author is the caller. */
function newPost(authorId?: number) {
  const n = ++sequence;
  return {
    title: `Bench post ${runTag}-${n}`,
    body: `Benchmark body ${runTag}-${n}: ${'the quick brown fox jumps over the lazy dog '.repeat(1 + (n % 6))}`,
    published: n % 2 === 0,
    ...(authorId !== undefined && { authorId }),
  };
}

/** Half of the requests name the caller as the author, the other half leave it to the default (the caller). */
function createPost(ctx: ScenarioContext): RequestSpec {
  const caller = pick(ctx.sessions);
  return { method: 'POST', path: '/api/v1/posts', body: newPost(Math.random() < 0.5 ? caller.userId : undefined), token: ctx.tokens.for(caller) };
}

function patchUser(ctx: ScenarioContext): RequestSpec {
  const caller = pick(ctx.sessions);
  return { method: 'PATCH', path: `/api/v1/users/${caller.userId}`, body: { name: `Bench name ${runTag}-${++sequence}` }, token: ctx.tokens.for(caller) };
}

/** 80 % reads (40 by id, 20 users list, 20 posts list), 20 % writes (10 POST, 10 PATCH). */
function mixed(ctx: ScenarioContext): RequestSpec {
  const roll = Math.random();
  if (roll < 0.4) return getUser(ctx);
  if (roll < 0.6) return listUsers();
  if (roll < 0.8) return listPosts();
  if (roll < 0.9) return createPost(ctx);
  return patchUser(ctx);
}

export const SCENARIOS: Scenario[] = [
  { name: 'GET /users/:id', concurrency: 10, writes: false, generator: (ctx) => () => getUser(ctx) },
  { name: 'GET /users?include=posts', concurrency: 10, writes: false, generator: () => listUsers },
  { name: 'GET /posts?published=true', concurrency: 10, writes: false, generator: () => listPosts },
  // Before any writing scenario: it runs on the statistics of the seed, whose plans the harness reports.
  { name: 'GET /posts?q= (search)', concurrency: 10, writes: false, generator: searchRotation, searchTerms: SEARCH_TERMS },
  { name: 'GET /posts deep page, offset', concurrency: 10, writes: false, generator: (ctx) => () => deepPageByOffset(ctx) },
  { name: 'GET /posts deep page, cursor', concurrency: 10, writes: false, generator: (ctx) => () => deepPageByCursor(ctx) },
  { name: 'POST /posts', concurrency: 10, writes: true, generator: (ctx) => () => createPost(ctx) },
  { name: 'PATCH /users/:id', concurrency: 10, writes: true, generator: (ctx) => () => patchUser(ctx) },
  { name: 'mix 80/20', concurrency: 10, writes: true, generator: (ctx) => () => mixed(ctx) },
  { name: 'GET /users/:id', concurrency: 100, writes: false, generator: (ctx) => () => getUser(ctx) },
  { name: 'POST /posts', concurrency: 100, writes: true, generator: (ctx) => () => createPost(ctx) },
];

function sessionOf(ctx: ScenarioContext, role: SessionUser['role']): SessionUser {
  const session = ctx.sessions.find((candidate) => candidate.role === role);
  if (!session) throw new Error(`no ${role} among the users with a session: seed more users (one in ten is an admin)`);
  return session;
}

/** A live user other than the caller. */
function otherUser(ctx: ScenarioContext, caller: SessionUser): number {
  const other = ctx.userIds.find((id) => id !== caller.userId);
  if (other === undefined) throw new Error('the 403 probes need at least two users');
  return other;
}

/** One request of each kind, for the contract check before any load. */
export const PROBES: Array<{ name: string; expectStatus: number; request(ctx: ScenarioContext): RequestSpec }> = [
  { name: 'GET /users/:id', expectStatus: 200, request: (ctx) => ({ method: 'GET', path: `/api/v1/users/${ctx.userIds[0]}` }) },
  { name: 'GET /users?include=posts', expectStatus: 200, request: listUsers },
  { name: 'GET /posts?published=true', expectStatus: 200, request: listPosts },
  // Search: a term in every published post (a full page: order, tie-break and total), one of the scenario's, and one
  // that matches only if % and _ were left as wildcards.
  { name: 'GET /posts?q= (every post)', expectStatus: 200, request: () => searchPosts('IPSUM dolor') },
  { name: 'GET /posts?q= (a few posts)', expectStatus: 200, request: () => searchPosts(SEARCH_TERMS[2]) },
  { name: 'GET /posts?q= (wildcards are literal)', expectStatus: 200, request: () => searchPosts('post_1%') },
  { name: 'GET /posts?q=ab (too short)', expectStatus: 400, request: () => searchPosts('ab') },
  {
    name: 'POST /posts (author by default)',
    expectStatus: 201,
    request: (ctx) => ({ method: 'POST', path: '/api/v1/posts', body: newPost(), token: ctx.tokens.for(sessionOf(ctx, 'user')) }),
  },
  {
    name: 'POST /posts (own authorId)',
    expectStatus: 201,
    request: (ctx) => {
      const caller = sessionOf(ctx, 'user');
      return { method: 'POST', path: '/api/v1/posts', body: newPost(caller.userId), token: ctx.tokens.for(caller) };
    },
  },
  { name: 'PATCH /users/:id', expectStatus: 200, request: patchUser },
  // Error paths must agree too: both servers are held to the same validation.
  { name: 'GET /users/abc (bad id)', expectStatus: 400, request: () => ({ method: 'GET', path: '/api/v1/users/abc' }) },
  { name: 'GET /users/:id (missing)', expectStatus: 404, request: () => ({ method: 'GET', path: '/api/v1/users/2147483647' }) },
  {
    // Only an admin may name another author; one that does not exist is then a 422.
    name: 'POST /posts (missing author, admin)',
    expectStatus: 422,
    request: (ctx) => ({
      method: 'POST',
      path: '/api/v1/posts',
      body: { title: 't', body: 'b', authorId: 2147483647 },
      token: ctx.tokens.for(sessionOf(ctx, 'admin')),
    }),
  },
  {
    name: 'POST /posts (invalid)',
    expectStatus: 400,
    request: (ctx) => ({ method: 'POST', path: '/api/v1/posts', body: { title: '' }, token: ctx.tokens.for(sessionOf(ctx, 'user')) }),
  },
  { name: 'GET /posts deep page, offset', expectStatus: 200, request: deepPageByOffset },
  { name: 'GET /posts deep page, cursor', expectStatus: 200, request: deepPageByCursor },
  {
    name: 'GET /posts (cursor of another filter)',
    expectStatus: 400,
    request: (ctx) => ({ method: 'GET', path: `/api/v1/posts?limit=20&cursor=${ctx.deepPage.cursor}` }),
  },
  { name: 'GET /posts?limit=1000', expectStatus: 400, request: () => ({ method: 'GET', path: '/api/v1/posts?limit=1000' }) },
  // Access control (issue 10): the same refusals from both servers.
  { name: 'POST /posts (no token)', expectStatus: 401, request: (ctx) => ({ method: 'POST', path: '/api/v1/posts', body: newPost(ctx.sessions[0].userId) }) },
  {
    name: 'PATCH /users/:id (token signed with another key)',
    expectStatus: 401,
    request: (ctx) => {
      const caller = sessionOf(ctx, 'user');
      return { method: 'PATCH', path: `/api/v1/users/${caller.userId}`, body: { name: 'Wrong key' }, token: ctx.tokens.withWrongKey(caller) };
    },
  },
  {
    name: 'PATCH /users/:id (ended session)',
    expectStatus: 401,
    request: (ctx) => ({
      method: 'PATCH',
      path: `/api/v1/users/${ctx.endedSession.userId}`,
      body: { name: 'Logged out' },
      token: ctx.tokens.for(ctx.endedSession),
    }),
  },
  {
    name: 'PATCH /users/:id (another user)',
    expectStatus: 403,
    request: (ctx) => {
      const caller = sessionOf(ctx, 'user');
      return { method: 'PATCH', path: `/api/v1/users/${otherUser(ctx, caller)}`, body: { name: 'Not mine' }, token: ctx.tokens.for(caller) };
    },
  },
  {
    name: 'POST /posts (as another author)',
    expectStatus: 403,
    request: (ctx) => {
      const caller = sessionOf(ctx, 'user');
      return { method: 'POST', path: '/api/v1/posts', body: newPost(otherUser(ctx, caller)), token: ctx.tokens.for(caller) };
    },
  },
];
