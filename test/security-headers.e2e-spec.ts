/**
 * What every response tells browsers and caches: helmet's headers with the API's CSP, Cache-Control: no-store on
 * everything but the docs, and CORS only for the origins CORS_ORIGINS lists.
 */
import { createTestApp, type TestApp } from './utils/test-app';

/** A raw request, for what the OpenAPI document does not describe (preflights, unknown routes, /docs). */
async function raw(t: TestApp, method: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
  const response = await fetch(`${t.baseUrl}${path}`, { method, headers });
  await response.arrayBuffer();
  return response;
}

function corsHeaders(headers: Headers): string[] {
  return [...headers.keys()].filter((name) => name.startsWith('access-control-'));
}

function expectSecurityHeaders(headers: Headers): void {
  const csp = headers.get('content-security-policy') ?? '';
  const directives = new Map(
    csp
      .split(';')
      .map((directive) => directive.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...values]) => [name, values]),
  );
  expect(directives.get('default-src')).toEqual(["'self'"]);
  // Scripts from this origin only: no inline script, no eval.
  expect(directives.get('script-src')).toEqual(["'self'"]);
  expect(directives.get('object-src')).toEqual(["'none'"]);
  expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  expect(headers.get('referrer-policy')).toBe('no-referrer');
  expect(headers.has('x-powered-by')).toBe(false);
}

describe('security headers, CORS off (CORS_ORIGINS unset)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { CORS_ORIGINS: '' } });
  });

  afterAll(async () => {
    await t.close();
  });

  it('puts the security headers and no-store on API answers, successes and errors alike', async () => {
    const answers = [
      await t.request('GET', '/api/v1/posts', { as: null }),
      await t.request('GET', '/api/v1/auth/me'),
      // 400, 401, 404 from the API's own error path
      await t.request('GET', '/api/v1/posts?limit=abc', { as: null }),
      await t.request('POST', '/api/v1/posts', { as: null, body: { title: 't', body: 'b' } }),
      await t.request('GET', '/api/v1/posts/2147483000', { as: null }),
      // errors Fastify answers before any route: an unknown path, a malformed URL, a body of the wrong type
      await t.request('GET', '/api/v1/no-such-thing', { as: null }),
      await t.request('POST', '/api/v1/auth/login', { as: null, rawBody: 'email=a', headers: { 'content-type': 'text/plain' } }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 400, 401, 404, 404, 415]);
    for (const answer of answers) {
      expectSecurityHeaders(answer.headers);
      expect(answer.headers.get('cache-control')).toBe('no-store');
    }

    const health = await raw(t, 'GET', '/health');
    expect(health.status).toBe(200);
    expectSecurityHeaders(health.headers);
    expect(health.headers.get('cache-control')).toMatch(/\bno-store\b/);
  });

  it('puts them on the answer to a malformed URL too (answered by the router, before any hook)', async () => {
    const malformed = await raw(t, 'GET', '/api/v1/users/%E0%A4%A');
    expect(malformed.status).toBe(400);
    expectSecurityHeaders(malformed.headers);
    expect(malformed.headers.get('cache-control')).toBe('no-store');
  });

  it('serves the docs under the same CSP, cacheable', async () => {
    for (const path of ['/docs', '/docs-json']) {
      const response = await raw(t, 'GET', path);
      expect(response.status).toBe(200);
      expectSecurityHeaders(response.headers);
      expect(response.headers.get('cache-control') ?? '').not.toMatch(/no-store/);
    }
  });

  it('sends no CORS headers, to a preflight or to a request from another origin', async () => {
    const preflight = await raw(t, 'OPTIONS', '/api/v1/posts', {
      origin: 'https://app.example.com',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    });
    expect(preflight.status).toBe(404);
    expect(corsHeaders(preflight.headers)).toEqual([]);

    const response = await t.request('GET', '/api/v1/posts', { as: null, headers: { origin: 'https://app.example.com' } });
    expect(response.status).toBe(200);
    expect(corsHeaders(response.headers)).toEqual([]);
  });
});

describe('CORS with CORS_ORIGINS', () => {
  const ALLOWED = 'https://app.example.com';
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { CORS_ORIGINS: `${ALLOWED},https://admin.example.com` } });
  });

  afterAll(async () => {
    await t.close();
  });

  const preflight = (origin: string) =>
    raw(t, 'OPTIONS', '/api/v1/posts/1', {
      origin,
      'access-control-request-method': 'PATCH',
      'access-control-request-headers': 'authorization,content-type',
    });

  it('allows a preflight from a listed origin: its methods and headers, for ten minutes, without credentials', async () => {
    for (const origin of [ALLOWED, 'https://admin.example.com']) {
      const response = await preflight(origin);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(response.headers.get('access-control-allow-methods')?.split(/,\s*/)).toEqual(expect.arrayContaining(['GET', 'POST', 'PATCH', 'DELETE']));
      expect(response.headers.get('access-control-allow-headers')?.toLowerCase().split(/,\s*/)).toEqual(
        expect.arrayContaining(['authorization', 'content-type']),
      );
      expect(response.headers.get('access-control-max-age')).toBe('600');
      // Bearer tokens, never cookies.
      expect(response.headers.has('access-control-allow-credentials')).toBe(false);
      expect(response.headers.get('vary') ?? '').toMatch(/origin/i);
    }
  });

  it('refuses a preflight from any other origin, including look-alikes of a listed one', async () => {
    for (const origin of ['https://evil.example.com', 'http://app.example.com', 'https://app.example.com.evil.net', 'null']) {
      const response = await preflight(origin);
      expect(response.headers.has('access-control-allow-origin')).toBe(false);
    }
  });

  it('lets a listed origin read the answer and the headers a client needs', async () => {
    const response = await t.request('GET', '/api/v1/posts', { as: null, headers: { origin: ALLOWED } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(response.headers.get('access-control-expose-headers')?.toLowerCase().split(/,\s*/)).toEqual(
      expect.arrayContaining(['x-request-id', 'retry-after', 'www-authenticate']),
    );
    expectSecurityHeaders(response.headers);

    const other = await t.request('GET', '/api/v1/posts', { as: null, headers: { origin: 'https://evil.example.com' } });
    expect(other.status).toBe(200);
    expect(other.headers.has('access-control-allow-origin')).toBe(false);
  });
});
