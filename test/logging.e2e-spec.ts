/**
 * What the service writes to its logs, read from the real process (the built entry point, spawned by AppProcess):
 * the routes it serves under their real paths, the start-up banner last, nothing but JSON lines in production, one
 * error entry per 500 with its statement once and none of its values, and SQL out of the box in development.
 */
import { readFileSync } from 'node:fs';
import { createScratchDatabase, withAdmin } from './setup/test-databases';
import { AppProcess } from './utils/app-process';
import { OPENAPI_FILE } from './utils/openapi-validator';

interface Entry {
  level: number;
  msg?: string;
  context?: string;
  reqId?: string;
  err?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Every line of a production run's output as a JSON object; the lines that are not one are returned apart. */
function parseLines(logs: string): { entries: Entry[]; notJson: string[] } {
  const entries: Entry[] = [];
  const notJson: string[] = [];
  for (const line of logs.split('\n').filter((text) => text !== '')) {
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) entries.push(value as Entry);
      else notJson.push(line);
    } catch {
      notJson.push(line);
    }
  }
  return { entries, notJson };
}

/** Each operation of the committed OpenAPI document, in the route log's words. */
function documentedRoutes(): string[] {
  const document = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `Mapped {${path.replace(/\{(\w+)\}/g, ':$1')}, ${method.toUpperCase()}} route`),
  );
}

/** Stops the app with SIGTERM and waits for its last line (the shutdown message) and its exit. */
async function stop(app: AppProcess): Promise<number | null> {
  app.kill('SIGTERM');
  await app.waitForOutput(/SIGTERM received[^\n]*\n/, 10_000);
  return (await app.waitForExit()).code;
}

// A fault no mapping of the exception filter knows (SQLSTATE P0001), raised by the INSERT of a registration: a 500
// whose statement carries bound values (name, email, password hash).
const FAIL_USER_INSERTS = `
  CREATE FUNCTION test_fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'induced failure'; END $$;
  CREATE TRIGGER test_fail_insert BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION test_fail_insert();`;

const account = { name: 'Unlogged Person', email: 'unlogged-person@example.com', password: 'an unlogged passphrase' };

async function failingRegistration(app: AppProcess, requestId: string): Promise<number> {
  const response = await fetch(`${app.baseUrl}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify(account),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('logs', () => {
  it('production: a start, a request and a SIGTERM stop write only JSON lines; routes under their real paths; the banner last of the start-up', async () => {
    const url = await createScratchDatabase('logging_json');
    const app = await AppProcess.start({ DATABASE_URL: url, MIGRATE_ON_START: 'true', NODE_ENV: 'production', LOG_LEVEL: 'info' });
    const response = await fetch(`${app.baseUrl}/api/v1/posts`, { headers: { 'x-request-id': 'json-probe' } });
    await response.arrayBuffer();
    expect(response.status).toBe(200);
    await app.waitForOutput(/"reqId":"json-probe"[^\n]*\n/, 10_000);
    expect(await stop(app)).toBe(0);

    const { entries, notJson } = parseLines(app.logs);
    expect(notJson).toEqual([]);

    // Exactly the documented operations, under the paths clients call: the version in, the prefix out for /health.
    const routes = entries.filter((entry) => entry.context === 'Routes').map((entry) => entry.msg);
    // /metrics is the one route left out of the document (operators', not clients'); mapped even when metrics are off.
    expect([...routes].sort()).toEqual([...documentedRoutes(), 'Mapped {/metrics, GET} route'].sort());
    expect(routes).toEqual(expect.arrayContaining(['Mapped {/api/v1/users, GET} route', 'Mapped {/health, GET} route']));
    // Nest's own mapping lines, which named /api/users and /api/health, are gone.
    expect(entries.filter((entry) => entry.context === 'RoutesResolver' || entry.context === 'RouterExplorer')).toEqual([]);
    expect(app.logs).not.toMatch(/\/api\/(users|posts|auth|health)\b/);

    const banner = entries.findIndex((entry) => entry.msg?.startsWith('API listening'));
    expect(entries[banner]).toMatchObject({
      level: 30,
      context: 'Main',
      msg: expect.stringMatching(/^API listening on http:\/\/127\.0\.0\.1:\d+\/api\/v1 — docs at http:\/\/127\.0\.0\.1:\d+\/docs — database: DATABASE_URL$/),
    });
    expect(entries.slice(0, banner).some((entry) => entry.msg === 'Nest application successfully started')).toBe(true);
    // After the banner: the request's line, then the stop.
    expect(entries.slice(banner + 1)).toEqual([
      expect.objectContaining({ level: 30, reqId: 'json-probe', msg: 'request completed' }),
      expect.objectContaining({ level: 30, context: 'Main', msg: expect.stringMatching(/^SIGTERM received: finishing in-flight requests/) }),
    ]);
  });

  it('production: an unhandled 500 is one error entry (request id, message, stack, the statement once, no bound values) and one request line', async () => {
    const url = await createScratchDatabase('logging_500');
    const app = await AppProcess.start({ DATABASE_URL: url, MIGRATE_ON_START: 'true', NODE_ENV: 'production', LOG_LEVEL: 'info' });
    let status: number;
    try {
      await withAdmin(url, (client) => client.query(FAIL_USER_INSERTS));
      status = await failingRegistration(app, 'failing-insert');
      await app.waitForOutput(/"msg":"request errored"[^\n]*\n/, 10_000);
    } finally {
      expect(await stop(app)).toBe(0);
    }
    expect(status).toBe(500);

    const { entries, notJson } = parseLines(app.logs);
    expect(notJson).toEqual([]);
    expect(entries.filter((entry) => entry.reqId === 'failing-insert')).toEqual([
      expect.objectContaining({
        level: 50,
        context: 'ApiExceptionFilter',
        err: expect.objectContaining({
          message: 'induced failure',
          code: 'P0001',
          stack: expect.stringMatching(/\n\s+at /),
          sql: expect.stringMatching(/^INSERT INTO "users" \("id","name","email"/),
        }),
      }),
      expect.objectContaining({ level: 30, msg: 'request errored', res: { statusCode: 500 } }),
    ]);
    const [error, request] = entries.filter((entry) => entry.reqId === 'failing-insert');
    expect(Object.keys(error.err ?? {})).not.toEqual(expect.arrayContaining(['parameters']));
    expect(error.err).not.toHaveProperty('parent');
    expect(error.err).not.toHaveProperty('original');
    expect(request).not.toHaveProperty('err');
    expect(entries.filter((entry) => entry.level >= 40)).toHaveLength(1);
    expect(app.logs.match(/INSERT INTO/g)).toHaveLength(1);
    for (const value of [account.name, account.email, account.password, '$argon2']) expect([value, app.logs.includes(value)]).toEqual([value, false]);
  });

  it('development: SQL is logged with LOG_LEVEL and DB_LOG_SQL unset, and a 500 shows its statement only there and in its one error entry', async () => {
    const url = await createScratchDatabase('logging_dev');
    // Empty means unset: the app's own defaults.
    const app = await AppProcess.start({ DATABASE_URL: url, MIGRATE_ON_START: 'true', NODE_ENV: 'development', LOG_LEVEL: '', DB_LOG_SQL: '' });
    let status: number;
    try {
      const response = await fetch(`${app.baseUrl}/api/v1/posts`);
      await response.arrayBuffer();
      expect(response.status).toBe(200);
      await withAdmin(url, (client) => client.query(FAIL_USER_INSERTS));
      status = await failingRegistration(app, 'dev-failing-insert');
      // pino-pretty writes from a worker thread: wait for the last line of the request rather than assume it is there.
      await app.waitForOutput(/request errored[^\n]*dev-failing-insert/, 10_000);
    } finally {
      expect(await stop(app)).toBe(0);
    }
    expect(status).toBe(500);

    expect(app.logs).toMatch(/INFO \(\d+\): Executing \(default\): SELECT [^\n]* FROM "posts" [^\n]*\{"context":"SQL"\}/);
    expect(app.logs).toMatch(/INFO \(\d+\): Mapped \{\/api\/v1\/posts, GET\} route \{"context":"Routes"\}/);
    expect(app.logs).toMatch(/INFO \(\d+\): API listening on http:\/\/127\.0\.0\.1:\d+\/api\/v1 — docs at /);
    // The statement twice: its own SQL line, and the error entry's `sql`; no value of the request anywhere.
    expect(app.logs.match(/Executing \([^)]+\): INSERT INTO "users"/g)).toHaveLength(1);
    expect(app.logs.match(/INSERT INTO \\?"users\\?"/g)).toHaveLength(2);
    expect(app.logs.match(/^\[[\d:.]+\] ERROR /gm)).toHaveLength(1);
    expect(app.logs).not.toContain('"parameters"');
    for (const value of [account.name, account.email, account.password, '$argon2']) expect([value, app.logs.includes(value)]).toEqual([value, false]);
  });
});
