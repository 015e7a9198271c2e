/**
 * The benchmark scenarios of issue 6. Each yields an endless stream of requests; random choices come
 * from the seeded live users, and every write carries a unique payload so no two requests are equal.
 */
import type { RequestSpec } from './load';

export interface ScenarioContext {
  userIds: number[];
}

export interface Scenario {
  name: string;
  concurrency: number;
  /** True when the scenario changes data (the harness vacuums afterwards). */
  writes: boolean;
  /** Requests for a load run. */
  generator(context: ScenarioContext): () => RequestSpec;
}

let sequence = 0;
const runTag = Date.now().toString(36);

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}

const getUser = (ctx: ScenarioContext): RequestSpec => ({ method: 'GET', path: `/api/v1/users/${pick(ctx.userIds)}` });
const listUsers = (): RequestSpec => ({ method: 'GET', path: '/api/v1/users?include=posts&limit=20' });
const listPosts = (): RequestSpec => ({ method: 'GET', path: '/api/v1/posts?published=true&limit=20' });

function createPost(ctx: ScenarioContext): RequestSpec {
  const n = ++sequence;
  return {
    method: 'POST',
    path: '/api/v1/posts',
    body: {
      title: `Bench post ${runTag}-${n}`,
      body: `Benchmark body ${runTag}-${n}: ${'the quick brown fox jumps over the lazy dog '.repeat(1 + (n % 6))}`,
      published: n % 2 === 0,
      authorId: pick(ctx.userIds),
    },
  };
}

function patchUser(ctx: ScenarioContext): RequestSpec {
  return { method: 'PATCH', path: `/api/v1/users/${pick(ctx.userIds)}`, body: { name: `Bench name ${runTag}-${++sequence}` } };
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
  { name: 'POST /posts', concurrency: 10, writes: true, generator: (ctx) => () => createPost(ctx) },
  { name: 'PATCH /users/:id', concurrency: 10, writes: true, generator: (ctx) => () => patchUser(ctx) },
  { name: 'mix 80/20', concurrency: 10, writes: true, generator: (ctx) => () => mixed(ctx) },
  { name: 'GET /users/:id', concurrency: 100, writes: false, generator: (ctx) => () => getUser(ctx) },
  { name: 'POST /posts', concurrency: 100, writes: true, generator: (ctx) => () => createPost(ctx) },
];

/** One request of each kind, for the contract check before any load. */
export const PROBES: Array<{ name: string; expectStatus: number; request(ctx: ScenarioContext): RequestSpec }> = [
  { name: 'GET /users/:id', expectStatus: 200, request: (ctx) => ({ method: 'GET', path: `/api/v1/users/${ctx.userIds[0]}` }) },
  { name: 'GET /users?include=posts', expectStatus: 200, request: listUsers },
  { name: 'GET /posts?published=true', expectStatus: 200, request: listPosts },
  { name: 'POST /posts', expectStatus: 201, request: createPost },
  { name: 'PATCH /users/:id', expectStatus: 200, request: patchUser },
  // Error paths must agree too: both servers are held to the same validation.
  { name: 'GET /users/abc (bad id)', expectStatus: 400, request: () => ({ method: 'GET', path: '/api/v1/users/abc' }) },
  { name: 'GET /users/:id (missing)', expectStatus: 404, request: () => ({ method: 'GET', path: '/api/v1/users/2147483647' }) },
  {
    name: 'POST /posts (missing author)',
    expectStatus: 422,
    request: () => ({ method: 'POST', path: '/api/v1/posts', body: { title: 't', body: 'b', authorId: 2147483647 } }),
  },
  { name: 'POST /posts (invalid)', expectStatus: 400, request: () => ({ method: 'POST', path: '/api/v1/posts', body: { title: '' } }) },
  { name: 'GET /posts?limit=1000', expectStatus: 400, request: () => ({ method: 'GET', path: '/api/v1/posts?limit=1000' }) },
];
