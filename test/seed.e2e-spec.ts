/**
 * `npm run db:seed`: the demo accounts the README lists log in with the passwords it gives, with their roles;
 * the seeder refuses a production environment; `npm run db:seed:undo` takes the accounts away again.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createMarkedDatabase, databaseUrl, harnessState, templateDatabaseName, withAdmin } from './setup/test-databases';
import { createTestApp, type TestApp } from './utils/test-app';

const ROOT = path.resolve(__dirname, '..');

// Each run starts npm, tsx and sequelize-cli: seconds apiece on a busy machine.
jest.setTimeout(180_000);

/** As the README lists them. */
const DEMO_ACCOUNTS = [
  { email: 'ada@example.com', password: 'analytical-engine-1843', role: 'admin' },
  { email: 'alan@example.com', password: 'imitation-game-1950', role: 'user' },
  { email: 'grace@example.com', password: 'first-actual-bug-1947', role: 'user' },
  { email: 'edsger@example.com', password: 'shortest-path-1959', role: 'user' },
];

function npmRun(script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: process.env.TMPDIR ?? '' };
  const child = spawn('npm', ['run', '--silent', script], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** A database of this file's own, with every migration applied (a clone of the harness's template). */
async function migratedDatabase(label: string): Promise<string> {
  const { adminUrl, prefix } = harnessState();
  const name = `${prefix}${label}_${randomBytes(3).toString('hex')}`;
  await withAdmin(adminUrl, (client) => createMarkedDatabase(client, name, templateDatabaseName(prefix)));
  return databaseUrl(adminUrl, name);
}

const countUsers = (url: string) => withAdmin(url, async (client) => Number((await client.query('SELECT count(*) FROM users')).rows[0].count));

describe('npm run db:seed', () => {
  let url: string;
  let t: TestApp | undefined;

  beforeAll(async () => {
    url = await migratedDatabase('seed');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('refuses to seed with NODE_ENV=production', async () => {
    // A production environment is complete (JWT_SECRET included): what refuses is the seeder itself.
    const result = await npmRun('db:seed', { DATABASE_URL: url, NODE_ENV: 'production', JWT_SECRET: randomBytes(48).toString('base64') });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/Refusing to seed demo accounts .* \(NODE_ENV=production\)/);
    expect(await countUsers(url)).toBe(0);
  });

  it('creates the demo accounts, which log in with the README’s passwords and have its roles; undo removes them', async () => {
    const seeded = await npmRun('db:seed', { DATABASE_URL: url });
    expect(seeded).toMatchObject({ code: 0 });

    t = await createTestApp({ env: { DATABASE_URL: url } });
    for (const account of DEMO_ACCOUNTS) {
      const login = await t.request('POST', '/api/v1/auth/login', { as: null, body: { email: account.email, password: account.password } });
      expect({ email: account.email, status: login.status }).toEqual({ email: account.email, status: 200 });
      expect(login.body.user).toMatchObject({ email: account.email, role: account.role });
    }
    await t.close();
    t = undefined;

    expect((await npmRun('db:seed:undo', { DATABASE_URL: url })).code).toBe(0);
    expect(await countUsers(url)).toBe(0);
  });
});
