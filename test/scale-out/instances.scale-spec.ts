/**
 * Several instances of the app (real processes of the built entry point, src/main.ts compiled by swc as `npm run
 * build` compiles it, in production mode) on one database, behind
 * Debian's HAProxy health-checking each on /health/ready (issue 16). What one instance does, every other honours:
 * sessions and logouts, refresh tokens, idempotency keys, cursors and ETags, rate-limit counts (Redis). Then a rolling
 * restart of every instance in turn under a mixed load: no 5xx, no failed request, no acknowledged write lost.
 * Run by `npm run test:scale-out` (scripts/test-scale-out.sh installs HAProxy when missing).
 */
import { randomUUID } from 'node:crypto';
import { AppProcess, freePort } from '../utils/app-process';
import { CHECK_FALL, CHECK_INTERVAL_MS, LoadBalancer, type ServerState } from '../utils/load-balancer';
import { createScratchDatabase, withAdmin } from '../setup/test-databases';

const INSTANCES = 3;
/** The grace period must outlast the checks that take an instance out (interval × fall), with a margin (docs/scaling.md). */
const GRACE_MS = CHECK_INTERVAL_MS * CHECK_FALL + 1_500;
const AUTH_PER_EMAIL = 3;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const WRITERS = 4;
const READERS = 2;
const PASSWORD = 'a long enough password';
const run = randomUUID().slice(0, 8);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function call(baseUrl: string, method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

interface Account {
  id: number;
  accessToken: string;
  refreshToken: string;
}

async function register(baseUrl: string, label: string): Promise<Account> {
  const answer = await call(baseUrl, 'POST', '/api/v1/auth/register', { body: { name: `Scale ${label}`, email: `scale-${label}-${run}@example.com`, password: PASSWORD } });
  expect(answer.status).toBe(201);
  return { id: answer.body.user.id, accessToken: answer.body.accessToken, refreshToken: answer.body.refreshToken };
}

describe(`${INSTANCES} instances behind HAProxy`, () => {
  let databaseUrl: string;
  let ports: number[];
  let instances: AppProcess[];
  let balancer: LoadBalancer;

  const environment = () => ({
    DATABASE_URL: databaseUrl,
    // Every instance migrates at start: the advisory lock lets one do it while the others wait.
    MIGRATE_ON_START: 'true',
    DB_POOL_MAX: '5',
    REDIS_URL,
    RATE_LIMIT: 'on',
    RATE_LIMIT_MAX: '1000000',
    AUTH_RATE_LIMIT_PER_IP: '1000000',
    AUTH_RATE_LIMIT_PER_EMAIL: String(AUTH_PER_EMAIL),
    TRUST_PROXY: '127.0.0.1',
    SHUTDOWN_GRACE_MS: String(GRACE_MS),
    LOG_LEVEL: 'warn',
  });

  beforeAll(async () => {
    databaseUrl = await createScratchDatabase('scale_out');
    ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()));
    instances = ports.map((port) => AppProcess.spawn(environment(), port));
    await Promise.all(instances.map((instance) => instance.waitForHttp(120_000)));
    balancer = await LoadBalancer.start({ ports });
    await balancer.allUp();
  }, 180_000);

  afterAll(async () => {
    await balancer?.stop();
    for (const instance of instances ?? []) instance.kill('SIGKILL');
    await Promise.all((instances ?? []).map((instance) => instance.waitForExit()));
  });

  it('spreads requests over every instance, each checked ready', async () => {
    const before = await balancer.servers();
    for (let i = 0; i < INSTANCES * 4; i++) expect((await call(balancer.baseUrl, 'GET', '/api/v1/posts?limit=1')).status).toBe(200);
    const after = await balancer.servers();
    expect(after.map((server) => server.status)).toEqual(Array(INSTANCES).fill('UP'));
    // Round robin: each instance got its share (health checks are not sessions).
    after.forEach((server, i) => expect(server.sessions - before[i].sessions).toBe(4));
  });

  it('a session made on one instance works on every other; a refresh on another; a logout on a third ends it on all', async () => {
    const [a, b, c] = instances.map((instance) => instance.baseUrl);
    const first = await register(a, 'session');
    for (const baseUrl of [a, b, c]) expect((await call(baseUrl, 'GET', '/api/v1/auth/me', { token: first.accessToken })).body).toMatchObject({ id: first.id });
    const refreshed = await call(b, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: first.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect((await call(c, 'GET', '/api/v1/auth/me', { token: refreshed.body.accessToken })).status).toBe(200);
    expect((await call(c, 'POST', '/api/v1/auth/logout', { token: refreshed.body.accessToken })).status).toBe(204);
    // Ended everywhere: both pairs' access tokens, and the live refresh token.
    for (const baseUrl of [a, b, c]) {
      expect((await call(baseUrl, 'GET', '/api/v1/auth/me', { token: refreshed.body.accessToken })).status).toBe(401);
      expect((await call(baseUrl, 'GET', '/api/v1/auth/me', { token: first.accessToken })).status).toBe(401);
    }
    expect((await call(a, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: refreshed.body.refreshToken } })).status).toBe(401);
  });

  it('a refresh token exchanged on one instance and replayed on another ends the session on all (reuse detection)', async () => {
    const [a, b, c] = instances.map((instance) => instance.baseUrl);
    const login = await call(a, 'POST', '/api/v1/auth/login', { body: { email: `scale-session-${run}@example.com`, password: PASSWORD } });
    expect(login.status).toBe(200);
    const rotated = await call(b, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: login.body.refreshToken } });
    expect(rotated.status).toBe(200);
    expect((await call(c, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: login.body.refreshToken } })).status).toBe(401);
    for (const baseUrl of [a, b, c]) expect((await call(baseUrl, 'GET', '/api/v1/auth/me', { token: rotated.body.accessToken })).status).toBe(401);
    expect((await call(a, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } })).status).toBe(401);
  });

  it('an idempotency key is one key for all instances: a retry sent elsewhere replays, another body is a 422, a burst makes one post', async () => {
    const [a, b, c] = instances.map((instance) => instance.baseUrl);
    const author = await register(a, 'idempotent');
    const body = { title: 'Once only', body: 'Sent to one instance, retried on another.' };
    const first = await call(a, 'POST', '/api/v1/posts', { body, token: author.accessToken, headers: { 'idempotency-key': `first-${run}` } });
    expect(first.status).toBe(201);
    const retry = await call(b, 'POST', '/api/v1/posts', { body, token: author.accessToken, headers: { 'idempotency-key': `first-${run}` } });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    const other = await call(c, 'POST', '/api/v1/posts', { body: { ...body, title: 'Another' }, token: author.accessToken, headers: { 'idempotency-key': `first-${run}` } });
    expect(other.status).toBe(422);

    // 12 at once with one new key, 4 to each instance: exactly one post, every answer that post (201) or in progress (409).
    const burst = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call(instances[i % INSTANCES].baseUrl, 'POST', '/api/v1/posts', { body: { ...body, title: 'Burst' }, token: author.accessToken, headers: { 'idempotency-key': `burst-${run}` } }),
      ),
    );
    const created = burst.filter((answer) => answer.status === 201);
    expect(created.length).toBeGreaterThan(0);
    expect(burst.filter((answer) => answer.status !== 201 && answer.status !== 409)).toEqual([]);
    expect(new Set(created.map((answer) => answer.body.id)).size).toBe(1);
    const stored = await withAdmin(databaseUrl, (client) => client.query<{ n: number }>(`SELECT count(*)::int AS n FROM posts WHERE "authorId" = $1 AND title = 'Burst'`, [author.id]));
    expect(stored.rows[0].n).toBe(1);
  });

  it('a key in progress on one instance is a 409 on another, and the first request then completes', async () => {
    const [a, b] = instances.map((instance) => instance.baseUrl);
    const author = await register(a, 'in-progress');
    const body = { title: 'Held', body: 'Its insert waits for a lock the test holds.' };
    const headers = { 'idempotency-key': `held-${run}` };
    await withAdmin(databaseUrl, async (client) => {
      // Holds back every insert into posts (not reads), so the first request stays in progress with its key claimed.
      await client.query('BEGIN');
      await client.query('LOCK TABLE posts IN SHARE ROW EXCLUSIVE MODE');
      const first = call(a, 'POST', '/api/v1/posts', { body, token: author.accessToken, headers });
      const deadline = Date.now() + 5_000;
      for (;;) {
        const waiting = await client.query(`SELECT 1 FROM pg_locks WHERE relation = 'posts'::regclass AND NOT granted`);
        if (waiting.rowCount) break;
        if (Date.now() > deadline) throw new Error('the first request never reached its insert');
        await sleep(20);
      }
      const second = await call(b, 'POST', '/api/v1/posts', { body, token: author.accessToken, headers });
      expect(second.status).toBe(409);
      await client.query('COMMIT');
      const done = await first;
      expect(done.status).toBe(201);
      const replay = await call(b, 'POST', '/api/v1/posts', { body, token: author.accessToken, headers });
      expect(replay.status).toBe(201);
      expect(replay.body.id).toBe(done.body.id);
    });
  });

  it("a cursor and an ETag made by one instance are taken by another; a stale tag is refused by a third", async () => {
    const [a, b, c] = instances.map((instance) => instance.baseUrl);
    const author = await register(a, 'tags');
    for (const title of ['One', 'Two', 'Three']) expect((await call(a, 'POST', '/api/v1/posts', { body: { title, body: 'B', published: true }, token: author.accessToken })).status).toBe(201);
    const page = await call(a, 'GET', `/api/v1/posts?authorId=${author.id}&limit=2`);
    expect(page.status).toBe(200);
    const next = await call(b, 'GET', `/api/v1/posts?authorId=${author.id}&limit=2&cursor=${page.body.meta.nextCursor}`);
    expect(next.status).toBe(200);
    expect(next.body.data.map((post: { title: string }) => post.title)).toEqual(['One']);

    const id = page.body.data[0].id;
    const read = await call(a, 'GET', `/api/v1/posts/${id}`);
    const tag = read.headers.get('etag')!;
    expect((await call(b, 'GET', `/api/v1/posts/${id}`, { headers: { 'if-none-match': tag } })).status).toBe(304);
    const patched = await call(b, 'PATCH', `/api/v1/posts/${id}`, { body: { title: 'Changed on b' }, token: author.accessToken, headers: { 'if-match': tag } });
    expect(patched.status).toBe(200);
    expect((await call(c, 'PATCH', `/api/v1/posts/${id}`, { body: { title: 'Lost' }, token: author.accessToken, headers: { 'if-match': tag } })).status).toBe(412);
  });

  it('rate limits are counted once for all instances (Redis): the attempts for one email add up wherever they land', async () => {
    const email = `scale-limited-${run}@example.com`;
    const login = (baseUrl: string) => call(baseUrl, 'POST', '/api/v1/auth/login', { body: { email, password: 'not the password at all' } });
    // One attempt on each instance: each is within the limit on its own, and all of them count.
    for (let i = 0; i < AUTH_PER_EMAIL; i++) expect((await login(instances[i % INSTANCES].baseUrl)).status).toBe(401);
    for (const instance of instances) {
      const refused = await login(instance.baseUrl);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    }
  });

  it('a rolling restart of every instance under load: no 5xx, no failed request, no acknowledged write lost', async () => {
    const lb = balancer.baseUrl;
    const writers = await Promise.all(Array.from({ length: WRITERS }, (_, i) => register(lb, `writer-${i}`)));
    let stopping = false;
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const acknowledged: number[] = [];
    const lastName = new Map<number, string>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
    // The loops end with the test, or by this deadline if the test itself times out first.
    const deadline = Date.now() + 200_000;
    const going = () => !stopping && Date.now() < deadline;
    const failed = async (error: unknown) => {
      failures.push(`${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`);
      await sleep(20);
    };

    const writer = async (account: Account) => {
      for (let n = 0; going(); n++) {
        try {
          const post = await call(lb, 'POST', '/api/v1/posts', { body: { title: `Rolling ${n}`, body: 'Written during a rolling restart.' }, token: account.accessToken });
          count(post.status);
          if (post.status === 201) acknowledged.push(post.body.id);
          const name = `Writer ${account.id} #${n}`;
          const patch = await call(lb, 'PATCH', `/api/v1/users/${account.id}`, { body: { name }, token: account.accessToken });
          count(patch.status);
          if (patch.status === 200) lastName.set(account.id, name);
        } catch (error) {
          await failed(error);
        }
      }
    };
    const reader = async (path: (n: number) => string) => {
      for (let n = 0; going(); n++) {
        try {
          count((await call(lb, 'GET', path(n))).status);
        } catch (error) {
          await failed(error);
        }
      }
    };
    const load = [
      ...writers.map(writer),
      ...Array.from({ length: READERS }, (_, i) => reader((n) => (i % 2 === 0 ? '/api/v1/posts?limit=5&include=author' : `/api/v1/users/${writers[n % WRITERS].id}`))),
    ];

    const served = (servers: ServerState[], i: number) => servers[i].sessions;
    const restarts: Array<{ instance: number; downAfterMs: number; exitCode: number | null; upAfterMs: number }> = [];
    try {
      await sleep(1_000);
      for (let i = 0; i < INSTANCES; i++) {
        const old = instances[i];
        const signalled = Date.now();
        old.kill('SIGTERM');
        // Readiness fails at once; the balancer takes the instance out within a check or two, well inside the grace.
        await balancer.waitFor((servers) => servers[i].status.startsWith('DOWN'), GRACE_MS, `app${i + 1} out of rotation`);
        const downAfterMs = Date.now() - signalled;
        const exit = await old.waitForExit(30_000);
        instances[i] = AppProcess.spawn(environment(), ports[i]);
        await instances[i].waitForHttp(120_000);
        const up = await balancer.waitFor((servers) => servers[i].status === 'UP', 30_000, `app${i + 1} back in rotation`);
        const upAfterMs = Date.now() - signalled;
        // The new process serves its share of the load before the next one goes.
        await balancer.waitFor((servers) => served(servers, i) >= served(up, i) + 10, 30_000, `app${i + 1} serving again`);
        restarts.push({ instance: i + 1, downAfterMs, exitCode: exit.code, upAfterMs });
      }
      await sleep(500);
    } finally {
      stopping = true;
      await Promise.all(load);
    }

    const summary = { restarts, statuses: Object.fromEntries(statuses), acknowledged: acknowledged.length, failures: failures.length };
    expect({ ...summary, failures: failures.slice(0, 5) }).toMatchObject({ failures: [] });
    expect(restarts.map((restart) => restart.exitCode)).toEqual(Array(INSTANCES).fill(0));
    expect([...statuses.keys()].filter((status) => status !== 200 && status !== 201)).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(INSTANCES * 10);
    // HAProxy never had to resend a request (a refused connection would mean an instance closed while in rotation),
    // and no instance answered 5xx.
    const counters = (await balancer.servers()).map(({ http5xx, retries, redispatches, connectionErrors }) => ({ http5xx, retries, redispatches, connectionErrors }));
    expect(counters).toEqual(Array(INSTANCES).fill({ http5xx: 0, retries: 0, redispatches: 0, connectionErrors: 0 }));

    // Every acknowledged post is stored, and every stored one was acknowledged; each writer's name is its last
    // acknowledged one (a writer waits for each answer before its next request).
    const ids = writers.map((account) => account.id);
    const stored = await withAdmin(databaseUrl, async (client) => {
      const posts = await client.query<{ id: number }>(`SELECT id FROM posts WHERE "authorId" = ANY($1) AND title LIKE 'Rolling %'`, [ids]);
      const users = await client.query<{ id: number; name: string }>('SELECT id, name FROM users WHERE id = ANY($1)', [ids]);
      return { posts: posts.rows.map((row) => row.id), users: users.rows };
    });
    expect(stored.posts.sort((x, y) => x - y)).toEqual([...acknowledged].sort((x, y) => x - y));
    for (const user of stored.users) expect(user.name).toBe(lastName.get(user.id));
    // For the record (the note), with --verbose.
    console.log(`rolling restart: ${JSON.stringify(summary)}`);
  }, 240_000);
});
