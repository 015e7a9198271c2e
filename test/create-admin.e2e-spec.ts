/**
 * `npm run user:create-admin`, run as an operator would: against a database of its own (DATABASE_URL), and against
 * the embedded server (DATABASE_URL unset); the account it makes logs in through the API and is an admin.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { createScratchDatabase, withAdmin } from './setup/test-databases';
import { freePort } from './utils/app-process';
import { makeTempDir } from './utils/temp-cluster';
import { createTestApp, type TestApp } from './utils/test-app';

const ROOT = path.resolve(__dirname, '..');

// Each run starts npm and tsx: seconds apiece on a busy machine.
jest.setTimeout(180_000);
const PASSWORD = 'correct horse battery staple';

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run <script> -- <args>` on a clean environment (nothing of the test worker's own configuration leaks in). */
function npmRun(script: string, args: string[], env: Record<string, string>, stdin = ''): Promise<RunResult> {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: process.env.TMPDIR ?? '' };
  const child = spawn('npm', ['run', '--silent', script, '--', ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const createAdmin = (email: string, name: string, env: Record<string, string>, stdin?: string) =>
  npmRun('user:create-admin', ['--email', email, '--name', name], env, stdin);

const query = <T extends Record<string, unknown>>(url: string, sql: string, values: unknown[] = []): Promise<T[]> =>
  withAdmin(url, async (client) => (await client.query<T>(sql, values)).rows);

describe('npm run user:create-admin against DATABASE_URL', () => {
  let url: string;
  let env: Record<string, string>;
  let t: TestApp | undefined;
  /** The first run, on the database before its migrations. */
  let early: RunResult;

  beforeAll(async () => {
    url = await createScratchDatabase('create_admin');
    env = { DATABASE_URL: url };
    early = await createAdmin('early@example.com', 'Too Early', { ...env, ADMIN_PASSWORD: PASSWORD });
    expect((await npmRun('db:migrate', [], env)).code).toBe(0);
  });

  afterAll(async () => {
    await t?.close();
  });

  /** Logs in through the API and returns who the token says the caller is. */
  async function loginAs(email: string, password: string): Promise<{ status: number; me?: { email: string; role: string } }> {
    t ??= await createTestApp({ env: { DATABASE_URL: url } });
    const login = await t.request('POST', '/api/v1/auth/login', { as: null, body: { email, password } });
    if (login.status !== 200) return { status: login.status };
    const me = await t.request('GET', '/api/v1/auth/me', { as: login.body.accessToken });
    expect(me.status).toBe(200);
    return { status: 200, me: me.body };
  }

  it('refuses a database whose migrations are pending, naming them, and creates nothing', async () => {
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/pending migration\(s\): 20261124000001-create-users\.js/);
    expect(early.stderr).toMatch(/npm run db:migrate/);
    expect(await query(url, 'SELECT 1 FROM users WHERE email = $1', ['early@example.com'])).toEqual([]);
  });

  it('creates an admin with the password in ADMIN_PASSWORD, who logs in and is an admin', async () => {
    const result = await createAdmin('  Ada@Example.COM ', 'Ada Lovelace', { ...env, ADMIN_PASSWORD: PASSWORD });
    expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Created admin #\d+ ada@example\.com$/m) });
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);

    const [row] = await query<{ role: string; passwordHash: string }>(url, 'SELECT role, "passwordHash" FROM users WHERE email = $1', ['ada@example.com']);
    expect(row.role).toBe('admin');
    expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    expect(await loginAs('ada@example.com', PASSWORD)).toEqual({ status: 200, me: expect.objectContaining({ email: 'ada@example.com', role: 'admin' }) });
    // What only an admin may do: filter users by email.
    const login = await t!.request('POST', '/api/v1/auth/login', { as: null, body: { email: 'ada@example.com', password: PASSWORD } });
    const filtered = await t!.request('GET', '/api/v1/users?email=ada@example.com', { as: login.body.accessToken });
    expect(filtered.status).toBe(200);
    expect(filtered.body.data).toEqual([expect.objectContaining({ email: 'ada@example.com', role: 'admin' })]);
  });

  it('reads the password from standard input when ADMIN_PASSWORD is unset (the line, not its newline)', async () => {
    const result = await createAdmin('grace@example.com', 'Grace Hopper', env, `${PASSWORD}\n`);
    expect(result.code).toBe(0);
    expect(await loginAs('grace@example.com', PASSWORD)).toMatchObject({ status: 200, me: { role: 'admin' } });
    expect((await loginAs('grace@example.com', `${PASSWORD}\n`)).status).toBe(401);
  });

  it('refuses an email that a live user already has, and changes nothing', async () => {
    const result = await createAdmin('ADA@example.com', 'Someone Else', { ...env, ADMIN_PASSWORD: 'another password entirely' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/already has the email ada@example\.com/);
    expect(await query(url, 'SELECT name FROM users WHERE email = $1', ['ada@example.com'])).toEqual([{ name: 'Ada Lovelace' }]);
    expect((await loginAs('ada@example.com', PASSWORD)).status).toBe(200);
  });

  it('refuses to run without a password: none in the environment, nothing on standard input', async () => {
    const result = await createAdmin('nopassword@example.com', 'No Password', { ...env, ADMIN_PASSWORD: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/No password: set ADMIN_PASSWORD or write it to standard input/);
    expect(await query(url, 'SELECT 1 FROM users WHERE email = $1', ['nopassword@example.com'])).toEqual([]);
  });

  it('checks the input with the rules of the API: a password of 12 characters at least, a real email, a name', async () => {
    const short = await createAdmin('short@example.com', 'Short Password', { ...env, ADMIN_PASSWORD: 'elevenchars' });
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/password must be longer than or equal to 12 characters/);

    const invalid = await createAdmin('not-an-email', 'X', { ...env, ADMIN_PASSWORD: PASSWORD });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/email must be an email/);
    expect(invalid.stderr).toMatch(/name must be between 2 and 100 characters long/);

    const missing = await npmRun('user:create-admin', ['--email', 'noname@example.com'], { ...env, ADMIN_PASSWORD: PASSWORD });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--email and --name are required/);

    expect(await query(url, 'SELECT email FROM users WHERE email = ANY($1)', [['short@example.com', 'not-an-email', 'noname@example.com']])).toEqual([]);
  });
});

describe('npm run user:create-admin against the embedded server (DATABASE_URL unset)', () => {
  let parent: string;

  beforeAll(async () => {
    parent = await makeTempDir('create-admin');
  });

  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('works on the server the db:* scripts use, and stops it afterwards', async () => {
    const pgPort = await freePort();
    const env = { EMBEDDED_PG_DATA_DIR: path.join(parent, 'pg'), EMBEDDED_PG_PORT: String(pgPort) };
    expect((await npmRun('db:migrate', [], env)).code).toBe(0);

    const created = await createAdmin('first@example.com', 'First Admin', { ...env, ADMIN_PASSWORD: PASSWORD });
    expect(created).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Created admin #1 first@example\.com$/m) });
    // It was stored: a second run finds it.
    const again = await createAdmin('first@example.com', 'First Admin', { ...env, ADMIN_PASSWORD: PASSWORD });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already has the email first@example\.com/);
    // The script stopped the server it started.
    await expect(query(`postgres://postgres@127.0.0.1:${pgPort}/app`, 'SELECT 1')).rejects.toThrow();
  });
});
