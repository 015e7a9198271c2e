/**
 * Accounts and tokens through real HTTP against PostgreSQL: register, login, refresh-token rotation with reuse
 * detection, logout, /auth/me, forged and tampered access tokens, revocation of sessions (password change, role
 * change, deletion), concurrent registration, and secrets never leaking into response bodies or log lines.
 *
 * The app is started with a JWT_SECRET this file chose, so tokens can be forged with jsonwebtoken exactly as the
 * app signs them; a control test proves such a forged token is accepted when nothing is wrong with it, so every
 * attack test fails for the one defect it introduces.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as jwt from 'jsonwebtoken';
import { createScratchDatabase, withAdmin } from './setup/test-databases';
import { AppProcess } from './utils/app-process';
import { createUser, expectApiError } from './utils/fixtures';
import { createTestApp, type RequestOptions, type TestApp, type TestResponse } from './utils/test-app';

const JWT_SECRET = randomBytes(48).toString('base64');
const ARGON2ID_OWASP = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const UNLIMITED_AUTH = { AUTH_RATE_LIMIT_PER_IP: '1000000', AUTH_RATE_LIMIT_PER_EMAIL: '1000000' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Every response body this file received, and every password it sent: checked against each other in afterAll. */
const responseBodies: string[] = [];
const passwordsUsed = new Set<string>();

function newPassword(): string {
  const password = `pw-${randomBytes(12).toString('base64url')}`;
  passwordsUsed.add(password);
  return password;
}

function newEmail(label = 'user'): string {
  return `${label}-${randomBytes(6).toString('hex')}@example.com`;
}

interface Account {
  id: number;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

interface AccessClaims {
  sub: string;
  sid: string;
  role: string;
  iss: string;
  aud: string;
  iat: number;
  exp: number;
}

function claimsOf(token: string): AccessClaims {
  return jwt.decode(token) as AccessClaims;
}

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('Auth (e2e)', () => {
  let t: TestApp;

  /** t.request, recording the body of every response. */
  async function send<T = any>(method: string, path: string, options?: RequestOptions): Promise<TestResponse<T>> {
    const response = await t.request<T>(method, path, options);
    responseBodies.push(typeof response.body === 'string' ? response.body : JSON.stringify(response.body));
    return response;
  }

  async function register(overrides: { name?: string; email?: string; password?: string } = {}): Promise<Account> {
    const email = overrides.email ?? newEmail();
    const password = overrides.password ?? newPassword();
    const response = await send('POST', '/api/v1/auth/register', { body: { name: overrides.name ?? 'Account Holder', email, password }, as: null });
    expect(response.status).toBe(201);
    return { id: response.body.user.id, email, password, accessToken: response.body.accessToken, refreshToken: response.body.refreshToken };
  }

  const login = (email: string, password: string) => send('POST', '/api/v1/auth/login', { body: { email, password }, as: null });
  const refresh = (refreshToken: unknown) => send('POST', '/api/v1/auth/refresh', { body: { refreshToken }, as: null });
  const me = (token: string) => send('GET', '/api/v1/auth/me', { as: token });
  const createPostAs = (token: string) => send('POST', '/api/v1/posts', { body: { title: 'Mine', body: 'Written with a token' }, as: token });

  /** A 401 that blames the token the request carried (RFC 6750 `error="invalid_token"`). */
  function expectInvalidToken(response: TestResponse): void {
    expectApiError(response, 401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="api"/);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  }

  async function expectSessionEnded(account: Pick<Account, 'accessToken' | 'refreshToken'>): Promise<void> {
    expectInvalidToken(await me(account.accessToken));
    expectInvalidToken(await createPostAs(account.accessToken));
    expectApiError(await refresh(account.refreshToken), 401);
  }

  async function sessionRevokedAt(accessToken: string): Promise<Date | null> {
    const [row] = await t.rows<{ revokedAt: Date | null }>('SELECT "revokedAt" FROM sessions WHERE id = $1', [claimsOf(accessToken).sid]);
    return row.revokedAt;
  }

  beforeAll(async () => {
    // The auth limits are raised as well as RATE_LIMIT=off (the worker default): RATE_LIMIT=off does not turn them
    // off (see 'RATE_LIMIT=off turns the auth limits off too' below), and this file sends far more than 5 attempts
    // per email or 20 per IP a minute.
    t = await createTestApp({ env: { JWT_SECRET, ...UNLIMITED_AUTH } });
  });

  afterAll(async () => {
    await t?.close();
  });

  afterAll(() => {
    // Every request of this file went through `send` (or was recorded by hand): none may ever show a hash.
    expect(responseBodies.length).toBeGreaterThan(0);
    const leaks = responseBodies.filter((body) => /\$argon2|passwordHash/i.test(body));
    expect(leaks).toEqual([]);
    const echoed = responseBodies.filter((body) => [...passwordsUsed].some((password) => body.includes(password)));
    expect(echoed).toEqual([]);
  });

  beforeEach(async () => {
    await t.truncate();
  });

  describe('an email that is not well-formed text (a lone UTF-16 surrogate)', () => {
    // The validator library measured such a string with encodeURI, which threw: a 500 for anyone, logged at error.
    it.each(['\ud800', 'a\udc00@example.com', 'x\ud83d@example.com'])('%j is a 400 on register, login, PATCH and bulk, and nothing is written', async (email) => {
      const users = await t.rows('SELECT id FROM users');
      expectApiError(await send('POST', '/api/v1/auth/register', { body: { name: 'Surrogate', email, password: newPassword() }, as: null }), 400);
      expectApiError(await login(email, 'whatever-it-is-1'), 400);
      const account = await register();
      expectApiError(await send('PATCH', `/api/v1/users/${account.id}`, { body: { email }, as: account.accessToken }), 400);
      expectApiError(await send('POST', '/api/v1/users/bulk', { body: { users: [{ name: 'Bulk', email }] } }), 400);
      expectApiError(await send('POST', '/api/v1/users', { body: { name: 'Created', email } }), 400);
      expect(await t.rows('SELECT id FROM users')).toHaveLength(users.length + 1);
    });
  });

  describe('POST /auth/register', () => {
    it('201: the user with email, a working token pair, role user, one session', async () => {
      const email = newEmail('ada');
      const password = newPassword();
      const response = await send('POST', '/api/v1/auth/register', {
        body: { name: 'Ada Lovelace', email: `  ${email.toUpperCase()} `, password },
        as: null,
      });
      expect(response.status).toBe(201);
      expect(Object.keys(response.body).sort()).toEqual(['accessToken', 'expiresIn', 'refreshToken', 'tokenType', 'user']);
      expect(response.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { name: 'Ada Lovelace', email, role: 'user' } });
      expect(Object.keys(response.body.user).sort()).toEqual(['createdAt', 'email', 'id', 'name', 'role', 'updatedAt']);
      expect(response.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const claims = claimsOf(response.body.accessToken);
      expect(jwt.decode(response.body.accessToken, { complete: true })?.header.alg).toBe('HS256');
      expect(claims).toMatchObject({ sub: String(response.body.user.id), role: 'user', sid: expect.stringMatching(UUID) });
      expect(claims.exp - claims.iat).toBe(900);
      // Signed with the configured secret, with the issuer and audience the app checks.
      expect(() => jwt.verify(response.body.accessToken, JWT_SECRET, { algorithms: ['HS256'], issuer: claims.iss, audience: claims.aud })).not.toThrow();

      const sessions = await t.rows('SELECT id, "revokedAt" FROM sessions WHERE "userId" = $1', [response.body.user.id]);
      expect(sessions).toEqual([{ id: claims.sid, revokedAt: null }]);
      const [row] = await t.rows('SELECT role, email FROM users WHERE id = $1', [response.body.user.id]);
      expect(row).toEqual({ role: 'user', email });

      const mine = await me(response.body.accessToken);
      expect(mine.status).toBe(200);
      expect(mine.body).toMatchObject({ id: response.body.user.id, email, role: 'user' });
      expect((await login(email, password)).status).toBe(200);
    });

    it.each(['admin', 'user'])('400 for a `role` property (%s): unknown property, nothing written', async (role) => {
      const email = newEmail();
      const response = await send('POST', '/api/v1/auth/register', { body: { name: 'Would Be Admin', email, password: newPassword(), role }, as: null });
      expectApiError(response, 400);
      expect(JSON.stringify(response.body.message)).toMatch(/property role should not exist/);
      expect(await t.rows('SELECT id FROM users WHERE email = $1', [email])).toEqual([]);
    });

    it.each([
      [11, 400],
      [129, 400],
      [12, 201],
      [128, 201],
    ])('password of %i characters → %i', async (length, status) => {
      const password = randomBytes(120).toString('base64url').slice(0, length);
      expect(password).toHaveLength(length);
      passwordsUsed.add(password);
      const email = newEmail();
      const response = await send('POST', '/api/v1/auth/register', { body: { name: 'Length Probe', email, password }, as: null });
      expect(response.status).toBe(status);
      if (status === 400) {
        expectApiError(response, 400);
        expect(JSON.stringify(response.body.message)).toMatch(/password/);
        expect(await t.rows('SELECT id FROM users WHERE email = $1', [email])).toEqual([]);
      } else {
        expect((await login(email, password)).status).toBe(200);
      }
    });

    it('409 when the email is taken, case-insensitively, and nothing else is written', async () => {
      const first = await register({ email: newEmail('taken') });
      const response = await send('POST', '/api/v1/auth/register', {
        body: { name: 'Second Comer', email: ` ${first.email.toUpperCase()}`, password: newPassword() },
        as: null,
      });
      expectApiError(response, 409);
      expect(response.body.message).toMatch(/email/);
      expect(await t.rows('SELECT id FROM users WHERE email = $1', [first.email])).toEqual([{ id: first.id }]);
      // The loser got no session either: only the first registration's.
      expect(await t.rows('SELECT count(*)::int AS n FROM sessions WHERE "userId" <> $1', [t.admin.id])).toEqual([{ n: 1 }]);
    });

    it('stores an argon2id hash with OWASP parameters, never the password', async () => {
      const account = await register();
      const [row] = await t.rows<{ passwordHash: string }>('SELECT "passwordHash" FROM users WHERE id = $1', [account.id]);
      expect(row.passwordHash).toMatch(ARGON2ID_OWASP);
      expect(row.passwordHash).not.toContain(account.password);
      // Salted: the same password gives another hash.
      const twin = await register({ password: account.password });
      const [other] = await t.rows<{ passwordHash: string }>('SELECT "passwordHash" FROM users WHERE id = $1', [twin.id]);
      expect(other.passwordHash).toMatch(ARGON2ID_OWASP);
      expect(other.passwordHash).not.toBe(row.passwordHash);
      // No other column of any table holds the password.
      const dump = JSON.stringify(await t.rows('SELECT u.*, s.* FROM users u LEFT JOIN sessions s ON s."userId" = u.id'));
      expect(dump).not.toContain(account.password);
      expect(JSON.stringify(await t.rows('SELECT * FROM refresh_tokens'))).not.toContain(account.refreshToken);
    });
  });

  describe('POST /auth/login', () => {
    it('200 with a new session, whatever the case and spacing of the email', async () => {
      const account = await register();
      const response = await login(`  ${account.email.toUpperCase()} `, account.password);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { id: account.id, email: account.email, role: 'user' } });
      expect(claimsOf(response.body.accessToken).sid).not.toBe(claimsOf(account.accessToken).sid);
      expect(await t.rows('SELECT count(*)::int AS n FROM sessions WHERE "userId" = $1', [account.id])).toEqual([{ n: 2 }]);
      expect((await me(response.body.accessToken)).status).toBe(200);
      // The registration's session is still live: logins do not end each other.
      expect((await me(account.accessToken)).status).toBe(200);
    });

    it('a wrong password and an unknown email get the same 401, status, body and header alike', async () => {
      const account = await register();
      const wrong = await login(account.email, `${account.password}x`);
      const unknown = await login(newEmail('nobody'), account.password);
      expectApiError(wrong, 401);
      expect(wrong.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Invalid email or password' });
      expect(unknown.status).toBe(wrong.status);
      expect(unknown.body).toEqual(wrong.body);
      expect(unknown.headers.get('www-authenticate')).toBe(wrong.headers.get('www-authenticate'));
      expect(await t.rows('SELECT count(*)::int AS n FROM sessions WHERE "userId" = $1', [account.id])).toEqual([{ n: 1 }]);
    });

    it('an unknown email takes about as long as a wrong password (medians, generous bounds)', async () => {
      const account = await register();
      const timed = async (email: string): Promise<number> => {
        const started = performance.now();
        const response = await login(email, 'not-the-password-at-all');
        const elapsed = performance.now() - started;
        expect(response.status).toBe(401);
        return elapsed;
      };
      // Warm-up: the first verify of each kind may pay for lazy initialisation.
      await timed(account.email);
      await timed(newEmail('ghost'));
      const wrongPassword: number[] = [];
      const unknownEmail: number[] = [];
      for (let round = 0; round < 7; round++) {
        // Interleaved, and alternating which goes first, so load spikes hit both series alike.
        if (round % 2 === 0) {
          wrongPassword.push(await timed(account.email));
          unknownEmail.push(await timed(newEmail('ghost')));
        } else {
          unknownEmail.push(await timed(newEmail('ghost')));
          wrongPassword.push(await timed(account.email));
        }
      }
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
      const ratio = median(unknownEmail) / median(wrongPassword);
      // An unknown email that skipped the hash would answer in ~1-2 ms against tens of ms for a verify.
      expect(ratio).toBeGreaterThan(0.5);
      expect(ratio).toBeLessThan(2);
    });

    it('an account created by an admin without a password cannot log in: the same 401', async () => {
      const user = await createUser(t, { email: newEmail('nopassword') });
      const [row] = await t.rows('SELECT "passwordHash" FROM users WHERE id = $1', [user.id]);
      expect(row.passwordHash).toBeNull();
      for (const password of ['', 'x'.repeat(12), 'null', 'undefined']) {
        const response = await login(user.email, password);
        expectApiError(response, 401);
        expect(response.body.message).toBe('Invalid email or password');
      }
      expect(await t.rows('SELECT id FROM sessions WHERE "userId" = $1', [user.id])).toEqual([]);
    });

    it('a deleted user cannot log in', async () => {
      const account = await register();
      expect((await send('DELETE', `/api/v1/users/${account.id}`)).status).toBe(204);
      const response = await login(account.email, account.password);
      expectApiError(response, 401);
      expect(response.body.message).toBe('Invalid email or password');
    });
  });

  describe('POST /auth/refresh', () => {
    it('rotates: a new pair for the same session, and the old refresh token is dead', async () => {
      const account = await register();
      const rotated = await refresh(account.refreshToken);
      expect(rotated.status).toBe(200);
      expect(rotated.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { id: account.id, email: account.email } });
      expect(rotated.body.refreshToken).not.toBe(account.refreshToken);
      expect(claimsOf(rotated.body.accessToken).sid).toBe(claimsOf(account.accessToken).sid);
      expect((await me(rotated.body.accessToken)).status).toBe(200);

      const again = await refresh(account.refreshToken);
      expectApiError(again, 401);
      // The new token goes on working only when nobody replayed the old one: see the reuse test.
      const [stored] = await t.rows('SELECT count(*)::int AS n FROM refresh_tokens WHERE "sessionId" = $1', [claimsOf(account.accessToken).sid]);
      expect(stored.n).toBe(2);
    });

    it('reuse of a rotated token ends the whole session: its newest refresh token and its access tokens are refused', async () => {
      const account = await register();
      const other = await login(account.email, account.password);
      expect(other.status).toBe(200);
      const first = await refresh(account.refreshToken);
      expect(first.status).toBe(200);
      const second = await refresh(first.body.refreshToken);
      expect(second.status).toBe(200);

      // An attacker replays the first refresh token, long since rotated.
      const replay = await refresh(account.refreshToken);
      expectApiError(replay, 401);
      expect(await sessionRevokedAt(account.accessToken)).toBeInstanceOf(Date);

      expectApiError(await refresh(second.body.refreshToken), 401);
      for (const token of [account.accessToken, first.body.accessToken, second.body.accessToken]) {
        expectInvalidToken(await me(token));
        expectInvalidToken(await createPostAs(token));
      }
      // Only that session: the same user's other login lives on.
      expect((await me(other.body.accessToken)).status).toBe(200);
      expect((await refresh(other.body.refreshToken)).status).toBe(200);
    });

    it('two concurrent refreshes with one token never both succeed', async () => {
      const account = await register();
      const responses = await Promise.all([refresh(account.refreshToken), refresh(account.refreshToken)]);
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([200, 401]);
      // The loser was a reuse: the session is over for the winner's tokens too.
      const winner = responses.find((response) => response.status === 200)!;
      expectApiError(await refresh(winner.body.refreshToken), 401);
      expectInvalidToken(await me(winner.body.accessToken));
    });

    it('401 for the refresh token of a logged-out session', async () => {
      const account = await register();
      expect((await send('POST', '/api/v1/auth/logout', { as: account.accessToken })).status).toBe(204);
      const response = await refresh(account.refreshToken);
      expectApiError(response, 401);
      expect(await t.rows('SELECT count(*)::int AS n FROM refresh_tokens WHERE "sessionId" = $1', [claimsOf(account.accessToken).sid])).toEqual([{ n: 1 }]);
    });

    it('401 for an expired refresh token and for a token of an expired session', async () => {
      const account = await register();
      await t.rows(`UPDATE refresh_tokens SET "expiresAt" = now() - interval '1 second' WHERE "sessionId" = $1`, [claimsOf(account.accessToken).sid]);
      expectApiError(await refresh(account.refreshToken), 401);

      const other = await register();
      await t.rows(`UPDATE sessions SET "expiresAt" = now() - interval '1 second' WHERE id = $1`, [claimsOf(other.accessToken).sid]);
      expectApiError(await refresh(other.refreshToken), 401);
      expectInvalidToken(await me(other.accessToken));
    });

    it.each([
      ['random bytes', randomBytes(32).toString('base64url')],
      ['an empty string', ''],
      ['an access token', 'ACCESS'],
      ['512 characters', 'x'.repeat(512)],
    ])('401 for garbage: %s', async (_case, value) => {
      const account = await register();
      const response = await refresh(value === 'ACCESS' ? account.accessToken : value);
      expectApiError(response, 401);
      expect(response.body.message).toBe('Invalid or expired refresh token');
      expect((await refresh(account.refreshToken)).status).toBe(200);
    });

    it.each([
      ['a number', 12345],
      ['null', null],
      ['an object', { token: 'x' }],
      ['an array', ['x']],
      ['a boolean', true],
      ['too long a string (513)', 'x'.repeat(513)],
    ])('400 for a refreshToken that is %s', async (_case, value) => {
      expectApiError(await refresh(value), 400);
    });

    it('400 for a missing refreshToken and for an unknown property', async () => {
      expectApiError(await send('POST', '/api/v1/auth/refresh', { body: {}, as: null }), 400);
      const account = await register();
      expectApiError(await send('POST', '/api/v1/auth/refresh', { body: { refreshToken: account.refreshToken, sessionId: 'x' }, as: null }), 400);
    });
  });

  describe('POST /auth/logout', () => {
    it('204; that session is refused on writes and reads at once, another session of the user still works', async () => {
      const account = await register();
      const other = await login(account.email, account.password);
      expect(other.status).toBe(200);

      const response = await send('POST', '/api/v1/auth/logout', { as: account.accessToken });
      expect(response.status).toBe(204);
      expect(response.body).toBe('');
      expect(await sessionRevokedAt(account.accessToken)).toBeInstanceOf(Date);

      expectInvalidToken(await createPostAs(account.accessToken));
      expectInvalidToken(await me(account.accessToken));
      // A token sent to a public route must be valid too.
      expectInvalidToken(await send('GET', '/api/v1/users', { as: account.accessToken }));
      expectInvalidToken(await send('POST', '/api/v1/auth/logout', { as: account.accessToken }));
      expect(await t.rows('SELECT id FROM posts WHERE "authorId" = $1', [account.id])).toEqual([]);

      expect((await me(other.body.accessToken)).status).toBe(200);
      const post = await createPostAs(other.body.accessToken);
      expect(post.status).toBe(201);
      expect(post.body.authorId).toBe(account.id);
    });

    it('401 without a token', async () => {
      const response = await send('POST', '/api/v1/auth/logout', { as: null });
      expectApiError(response, 401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    });
  });

  describe('GET /auth/me', () => {
    it('200: the caller, with email', async () => {
      const account = await register({ name: 'Grace Hopper' });
      const response = await me(account.accessToken);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        id: account.id,
        name: 'Grace Hopper',
        email: account.email,
        role: 'user',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      const asAdmin = await me(t.admin.token);
      expect(asAdmin.body).toMatchObject({ id: t.admin.id, role: 'admin', email: expect.stringMatching(/^harness-admin-/) });
    });

    it('401 for an anonymous caller, with WWW-Authenticate: Bearer realm="api"', async () => {
      const response = await send('GET', '/api/v1/auth/me', { as: null });
      expectApiError(response, 401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    });
  });

  describe('access token attacks', () => {
    let victim: Account;
    let claims: AccessClaims;
    const now = () => Math.floor(Date.now() / 1000);

    /** A token as the app would sign it for `victim`'s live session, with `changes` applied. */
    function forge(changes: Partial<Record<keyof AccessClaims | 'nbf', unknown>> = {}, key: jwt.Secret = JWT_SECRET, algorithm: jwt.Algorithm = 'HS256'): string {
      const payload = { sub: claims.sub, sid: claims.sid, role: claims.role, iss: claims.iss, aud: claims.aud, iat: now(), exp: now() + 600, ...changes };
      return jwt.sign(payload, key, { algorithm });
    }

    beforeEach(async () => {
      victim = await register();
      claims = claimsOf(victim.accessToken);
    });

    it('control: a token forged with the right key, algorithm and claims is accepted (so each attack below fails for its one defect)', async () => {
      const response = await me(forge());
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(victim.id);
    });

    it('alg "none" (unsigned) → 401', async () => {
      const payload = { sub: claims.sub, sid: claims.sid, role: 'admin', iss: claims.iss, aud: claims.aud, iat: now(), exp: now() + 600 };
      for (const alg of ['none', 'None', 'NONE']) {
        expectInvalidToken(await me(`${base64url({ alg, typ: 'JWT' })}.${base64url(payload)}.`));
      }
      // With the original signature left on, too.
      const signature = victim.accessToken.split('.')[2];
      expectInvalidToken(await me(`${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(payload)}.${signature}`));
    });

    it('another algorithm → 401: HS512 and HS384 even with the right key, RS256 with a key of its own', async () => {
      expectInvalidToken(await me(forge({}, JWT_SECRET, 'HS512')));
      expectInvalidToken(await me(forge({}, JWT_SECRET, 'HS384')));
      expectInvalidToken(await me(forge({}, randomBytes(64), 'HS512')));
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      expectInvalidToken(await me(forge({}, privateKey, 'RS256')));
    });

    it('HS256 with a wrong key → 401', async () => {
      expectInvalidToken(await me(forge({}, randomBytes(48).toString('base64'))));
      expectInvalidToken(await me(forge({ role: 'admin' }, 'secret')));
      // An empty key is what a misconfigured verifier might accept.
      const unsigned = forge().split('.').slice(0, 2).join('.');
      expectInvalidToken(await me(`${unsigned}.`));
    });

    it('expired → 401', async () => {
      expectInvalidToken(await me(forge({ iat: now() - 3600, exp: now() - 120 })));
    });

    it('not yet valid (nbf in the future) → 401', async () => {
      expectInvalidToken(await me(forge({ nbf: now() + 3600 })));
    });

    it('wrong audience → 401', async () => {
      expectInvalidToken(await me(forge({ aud: 'some-other-api' })));
      expectInvalidToken(await me(forge({ aud: undefined })));
    });

    it('wrong issuer → 401', async () => {
      expectInvalidToken(await me(forge({ iss: 'https://evil.example.com' })));
      expectInvalidToken(await me(forge({ iss: undefined })));
    });

    it('claims that do not name a live session of that user → 401', async () => {
      const other = await register();
      // Someone else's session id under the victim's subject, and the other way round.
      expectInvalidToken(await me(forge({ sid: claimsOf(other.accessToken).sid })));
      expectInvalidToken(await me(forge({ sub: claimsOf(other.accessToken).sub })));
      expectInvalidToken(await me(forge({ sid: '00000000-0000-4000-8000-000000000000' })));
      expectInvalidToken(await me(forge({ sub: 12345 })));
      expectInvalidToken(await me(forge({ role: 'root' })));
    });

    it('a token of a deleted user → 401, and restoring the user does not bring it back', async () => {
      const response = await send('DELETE', `/api/v1/users/${victim.id}`);
      expect(response.status).toBe(204);
      expectInvalidToken(await me(victim.accessToken));
      expectInvalidToken(await createPostAs(victim.accessToken));
      // Even a correctly signed token naming that session.
      expectInvalidToken(await me(forge()));
      expect((await send('POST', `/api/v1/users/${victim.id}/restore`)).status).toBe(200);
      expectInvalidToken(await me(victim.accessToken));
    });

    it('a tampered payload (role changed to admin, original signature) → 401, not 403 and not 201', async () => {
      const [header, payload, signature] = victim.accessToken.split('.');
      const claimsAsAdmin = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'admin' };
      const tampered = `${header}.${base64url(claimsAsAdmin)}.${signature}`;
      expectInvalidToken(await me(tampered));
      const response = await send('POST', '/api/v1/users', { body: { name: 'Sneaky', email: newEmail('sneaky'), role: 'admin' }, as: tampered });
      expectInvalidToken(response);
      expect(await t.rows(`SELECT id FROM users WHERE name = 'Sneaky'`)).toEqual([]);
      // And the genuine token still works, as a plain user.
      expect((await me(victim.accessToken)).status).toBe(200);
      expectApiError(await send('POST', '/api/v1/users', { body: { name: 'Sneaky', email: newEmail('sneaky') }, as: victim.accessToken }), 403);
    });

    it.each([
      ['"Bearer" alone', () => 'Bearer'],
      ['"Bearer " with nothing after', () => 'Bearer '],
      ['Basic credentials', () => 'Basic x'],
      ['Basic with a valid token', () => `Basic ${victim.accessToken}`],
      ['a token without a scheme', () => victim.accessToken],
      ['two tokens', () => `Bearer ${victim.accessToken} ${victim.accessToken}`],
      ['two Bearer credentials joined as one header', () => `Bearer ${victim.accessToken}, Bearer ${victim.accessToken}`],
      ['not a JWT', () => 'Bearer not-a-jwt'],
      ['a JWT with a garbage payload', () => `Bearer ${base64url({ alg: 'HS256' })}.@@@.${victim.accessToken.split('.')[2]}`],
    ])('malformed Authorization header: %s → 401', async (_case, header) => {
      expectInvalidToken(await send('GET', '/api/v1/auth/me', { headers: { authorization: header() } }));
      expectInvalidToken(await send('GET', '/api/v1/users', { headers: { authorization: header() } }));
    });
  });

  describe('revocation', () => {
    const changePassword = (account: Account, body: Record<string, unknown>, as = account.accessToken) =>
      send('PATCH', `/api/v1/users/${account.id}`, { body, as });

    it('changing one’s password ends every session of the user; the new password works, the old does not', async () => {
      const account = await register();
      const second = await login(account.email, account.password);
      expect(second.status).toBe(200);
      const bystander = await register();
      const newOne = newPassword();

      const response = await changePassword(account, { password: newOne, currentPassword: account.password });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: account.id, email: account.email });

      await expectSessionEnded(account);
      await expectSessionEnded({ accessToken: second.body.accessToken, refreshToken: second.body.refreshToken });
      expect(await t.rows('SELECT id FROM sessions WHERE "userId" = $1 AND "revokedAt" IS NULL', [account.id])).toEqual([]);

      expectApiError(await login(account.email, account.password), 401);
      const fresh = await login(account.email, newOne);
      expect(fresh.status).toBe(200);
      expect((await me(fresh.body.accessToken)).status).toBe(200);
      const [row] = await t.rows<{ passwordHash: string }>('SELECT "passwordHash" FROM users WHERE id = $1', [account.id]);
      expect(row.passwordHash).toMatch(ARGON2ID_OWASP);
      // Other users keep their sessions.
      expect((await me(bystander.accessToken)).status).toBe(200);
    });

    it('403 for a wrong currentPassword; nothing changes and the sessions live on', async () => {
      const account = await register();
      const [before] = await t.rows('SELECT "passwordHash" FROM users WHERE id = $1', [account.id]);
      const response = await changePassword(account, { password: newPassword(), currentPassword: `${account.password}-wrong` });
      expectApiError(response, 403);
      expect(await t.rows('SELECT "passwordHash" FROM users WHERE id = $1', [account.id])).toEqual([before]);
      expect((await me(account.accessToken)).status).toBe(200);
      expect((await login(account.email, account.password)).status).toBe(200);
    });

    it('400 for a missing currentPassword; nothing changes', async () => {
      const account = await register();
      const newOne = newPassword();
      expectApiError(await changePassword(account, { password: newOne }), 400);
      expect((await me(account.accessToken)).status).toBe(200);
      expectApiError(await login(account.email, newOne), 401);
      expect((await login(account.email, account.password)).status).toBe(200);
    });

    it('400 for a new password outside 12–128 characters, even with the right currentPassword', async () => {
      const account = await register();
      expectApiError(await changePassword(account, { password: 'short-11-ch', currentPassword: account.password }), 400);
      expectApiError(await changePassword(account, { password: 'y'.repeat(129), currentPassword: account.password }), 400);
      expect((await me(account.accessToken)).status).toBe(200);
    });

    it('another user cannot change someone’s password, even knowing it', async () => {
      const account = await register();
      const intruder = await register();
      expectApiError(await changePassword(account, { password: newPassword(), currentPassword: account.password }, intruder.accessToken), 403);
      expect((await me(account.accessToken)).status).toBe(200);
      expect((await login(account.email, account.password)).status).toBe(200);
    });

    it('an admin resets another user’s password without currentPassword, ending that user’s sessions only', async () => {
      const account = await register();
      const newOne = newPassword();
      const response = await send('PATCH', `/api/v1/users/${account.id}`, { body: { password: newOne } });
      expect(response.status).toBe(200);
      await expectSessionEnded(account);
      expectApiError(await login(account.email, account.password), 401);
      expect((await login(account.email, newOne)).status).toBe(200);
      expect((await me(t.admin.token)).status).toBe(200);
    });

    it('a role change by an admin ends the target’s sessions; the next login carries the new role', async () => {
      const account = await register();
      const response = await send('PATCH', `/api/v1/users/${account.id}`, { body: { role: 'admin' } });
      expect(response.status).toBe(200);
      expect(response.body.role).toBe('admin');
      await expectSessionEnded(account);
      const again = await login(account.email, account.password);
      expect(again.status).toBe(200);
      expect(claimsOf(again.body.accessToken).role).toBe('admin');
      expect(again.body.user.role).toBe('admin');

      // And back down: the admin token is gone at once, so it cannot keep admin powers for its 15 minutes.
      expect((await send('PATCH', `/api/v1/users/${account.id}`, { body: { role: 'user' } })).status).toBe(200);
      expectInvalidToken(await send('POST', '/api/v1/users', { body: { name: 'Made By Ex Admin', email: newEmail() }, as: again.body.accessToken }));
      expect((await me(t.admin.token)).status).toBe(200);
    });

    it('an admin PATCH that leaves the role as it is does not end sessions', async () => {
      const account = await register();
      expect((await send('PATCH', `/api/v1/users/${account.id}`, { body: { role: 'user', name: 'Same Role' } })).status).toBe(200);
      expect((await me(account.accessToken)).status).toBe(200);
      expect((await refresh(account.refreshToken)).status).toBe(200);
    });

    it('deleting a user ends their sessions, by an admin or by themselves', async () => {
      const byAdmin = await register();
      const second = await login(byAdmin.email, byAdmin.password);
      expect((await send('DELETE', `/api/v1/users/${byAdmin.id}`)).status).toBe(204);
      await expectSessionEnded(byAdmin);
      await expectSessionEnded({ accessToken: second.body.accessToken, refreshToken: second.body.refreshToken });

      const self = await register();
      expect((await send('DELETE', `/api/v1/users/${self.id}`, { as: self.accessToken })).status).toBe(204);
      await expectSessionEnded(self);
      expect(await t.rows('SELECT id FROM sessions WHERE "userId" IN ($1, $2) AND "revokedAt" IS NULL', [byAdmin.id, self.id])).toEqual([]);
    });
  });

  it('30 concurrent registrations of one email: exactly one 201, 29 × 409, one row', async () => {
    const email = newEmail('race');
    const password = newPassword();
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        send('POST', '/api/v1/auth/register', {
          // Differently cased: the unique index is on the normalised address.
          body: { name: `Racer ${index}`, email: index % 2 === 0 ? email : email.toUpperCase(), password },
          as: null,
        }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(29);
    for (const response of responses.filter((candidate) => candidate.status === 409)) expectApiError(response, 409);
    const rows = await t.rows<{ id: number }>('SELECT id FROM users WHERE email = $1', [email]);
    expect(rows).toHaveLength(1);
    const winner = responses.find((response) => response.status === 201)!;
    expect(rows[0].id).toBe(winner.body.user.id);
    expect(await t.rows('SELECT count(*)::int AS n FROM sessions WHERE "userId" <> $1', [t.admin.id])).toEqual([{ n: 1 }]);
  });

  it('RATE_LIMIT=off turns the auth limits off too (login, register, refresh)', async () => {
    // Default auth limits (5 per email, 20 per IP a minute) and RATE_LIMIT=off, as every other e2e file runs.
    const unlimited = await createTestApp({ env: { RATE_LIMIT: 'off' } });
    try {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 8; attempt++) {
        const response = await unlimited.request('POST', '/api/v1/auth/login', { body: { email: 'nobody@example.com', password: 'not-a-password' }, as: null });
        responseBodies.push(JSON.stringify(response.body));
        statuses.push(response.status);
      }
      for (let attempt = 0; attempt < 16; attempt++) {
        const response = await unlimited.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: 'garbage' }, as: null });
        responseBodies.push(JSON.stringify(response.body));
        statuses.push(response.status);
      }
      expect(statuses.filter((status) => status === 429)).toEqual([]);
      expect(new Set(statuses)).toEqual(new Set([401]));
    } finally {
      await unlimited.close();
    }
  });

  it('no password, hash or token in the log lines of a register / login / refresh / change-password run (debug level, SQL logged)', async () => {
    const url = await createScratchDatabase('auth_logs');
    const app = await AppProcess.start({ DATABASE_URL: url, MIGRATE_ON_START: 'true', LOG_LEVEL: 'debug', DB_LOG_SQL: 'true', ...UNLIMITED_AUTH });
    const secrets: string[] = [];
    let exited = false;
    try {
      const call = async (method: string, path: string, body?: unknown, token?: string) => {
        const response = await fetch(`${app.baseUrl}/api/v1${path}`, {
          method,
          headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...(token && { authorization: `Bearer ${token}` }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        responseBodies.push(text);
        return { status: response.status, body: text ? JSON.parse(text) : undefined };
      };
      const email = newEmail('logged');
      const password = newPassword();
      const newOne = newPassword();
      const tooShort = `Zq${randomBytes(3).toString('hex')}`;
      passwordsUsed.add(tooShort);
      secrets.push(password, newOne, tooShort);

      expect((await call('POST', '/auth/register', { name: 'Logged Person', email: newEmail('short'), password: tooShort })).status).toBe(400);
      const registered = await call('POST', '/auth/register', { name: 'Logged Person', email, password });
      expect(registered.status).toBe(201);
      expect((await call('POST', '/auth/login', { email, password: `${password}-wrong` })).status).toBe(401);
      const loggedIn = await call('POST', '/auth/login', { email, password });
      expect(loggedIn.status).toBe(200);
      const refreshed = await call('POST', '/auth/refresh', { refreshToken: loggedIn.body.refreshToken });
      expect(refreshed.status).toBe(200);
      expect((await call('GET', '/auth/me', undefined, refreshed.body.accessToken)).status).toBe(200);
      const [hashBefore] = await withAdmin(url, async (client) => (await client.query('SELECT "passwordHash" FROM users WHERE email = $1', [email])).rows);
      const changed = await call('PATCH', `/users/${registered.body.user.id}`, { password: newOne, currentPassword: password }, refreshed.body.accessToken);
      expect(changed.status).toBe(200);
      const again = await call('POST', '/auth/login', { email, password: newOne });
      expect(again.status).toBe(200);
      // A replayed refresh token (the reuse path) and a revoked access token (the guard's refusal).
      expect((await call('POST', '/auth/refresh', { refreshToken: loggedIn.body.refreshToken })).status).toBe(401);
      expect((await call('GET', '/auth/me', undefined, registered.body.accessToken)).status).toBe(401);
      expect((await call('POST', '/auth/logout', undefined, again.body.accessToken)).status).toBe(204);
      const [hashAfter] = await withAdmin(url, async (client) => (await client.query('SELECT "passwordHash" FROM users WHERE email = $1', [email])).rows);

      for (const hash of [hashBefore.passwordHash as string, hashAfter.passwordHash as string]) {
        expect(hash).toMatch(ARGON2ID_OWASP);
        // The whole hash, and its salt and digest on their own.
        secrets.push(hash, ...hash.split('$').slice(-2));
      }
      for (const tokens of [registered.body, loggedIn.body, refreshed.body, again.body]) {
        secrets.push(tokens.accessToken, tokens.accessToken.split('.')[2], tokens.refreshToken);
      }
    } finally {
      app.kill('SIGTERM');
      exited = (await app.waitForExit()).code === 0;
    }
    expect(exited).toBe(true);

    const lines = app.logs.split('\n').filter((line) => line.trim() !== '');
    // The run did log at debug level: request lines and SQL statements, or this test would prove nothing.
    expect(lines.filter((line) => line.includes('request completed')).length).toBeGreaterThanOrEqual(11);
    const sql = lines
      .map((line) => (line.startsWith('{') ? (JSON.parse(line) as { context?: string; msg?: string }) : {}))
      .filter((entry) => entry.context === 'SQL')
      .map((entry) => entry.msg ?? '');
    expect(sql.some((statement) => statement.includes('INSERT INTO "users"'))).toBe(true);
    expect(sql.some((statement) => statement.includes('UPDATE "users" SET'))).toBe(true);
    expect(lines.filter((line) => /\$argon2|passwordHash\s*[:=]|"passwordHash":/i.test(line))).toEqual([]);
    const leaked = secrets.filter((secret) => secret.length >= 8 && app.logs.includes(secret));
    expect(leaked).toEqual([]);
  });
});
