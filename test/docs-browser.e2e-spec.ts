/**
 * Swagger UI at /docs in a real browser (Debian's chromium driven by playwright-core): it renders the users and
 * posts operations of openapi.json, and "Try it out" → Execute reaches the running app and gets a 2xx.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createTestApp, type TestApp } from './utils/test-app';
import { OPENAPI_FILE, openApiValidator } from './utils/openapi-validator';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const document = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as { paths: Record<string, Record<string, { operationId: string; tags: string[] }>> };

/** Swagger UI's element id for each documented operation of a tag. */
function operationIds(tag: string): string[] {
  return Object.values(document.paths)
    .flatMap((item) => Object.values(item))
    .filter((operation) => operation.tags?.includes(tag))
    .map((operation) => `operations-${tag}-${operation.operationId}`)
    .sort();
}

describe('Swagger UI in headless Chromium (e2e)', () => {
  let t: TestApp;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const pageErrors: string[] = [];
  const failedRequests: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} not found: apt-get install -y --no-install-recommends chromium (CI's script does), or set CHROMIUM_PATH`);
    }
    t = await createTestApp();
    // A fresh profile each run: nothing cached or remembered from another run can make the page pass.
    profile = mkdtempSync(path.join(tmpdir(), 'docs-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('requestfailed', (request) => failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`));
    page.on('response', (response) => {
      if (response.status() >= 400) failedRequests.push(`${response.request().method()} ${response.url()}: ${response.status()}`);
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await t?.close();
  });

  it('lists every users and posts operation of the document', async () => {
    await page.goto(`${t.baseUrl}/docs`);
    await page.locator('#operations-users-listUsers').waitFor({ timeout: 30_000 });
    await expect(page.locator('.info .title').innerText()).resolves.toContain('Users and Posts API');

    for (const tag of ['users', 'posts']) {
      const rendered = await page.locator(`.opblock[id^="operations-${tag}-"]`).evaluateAll((nodes) => nodes.map((node) => node.id));
      expect(rendered.sort()).toEqual(operationIds(tag));
    }
    // Sanity on the expectation itself: the document has a dozen or so operations under these two tags.
    expect(operationIds('users').length + operationIds('posts').length).toBeGreaterThanOrEqual(16);
  });

  it('runs GET /api/v1/users with "Try it out" → Execute and shows the 200 and the data', async () => {
    const created = await t.request('POST', '/api/v1/users', { body: { name: 'Browser User', email: 'browser@example.com' } });
    expect(created.status).toBe(201);

    const operation = page.locator('#operations-users-listUsers');
    await operation.locator('.opblock-summary').first().click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    const answer = page.waitForResponse((response) => new URL(response.url()).pathname === '/api/v1/users');
    await operation.getByRole('button', { name: 'Execute' }).click();
    const response = await answer;
    expect(response.status()).toBe(200);
    // What the browser got is held to the document like every other response of the suite.
    const url = new URL(response.url());
    openApiValidator().assert({
      method: response.request().method(),
      url: `${url.pathname}${url.search}`,
      status: response.status(),
      headers: new Headers(await response.allHeaders()),
      text: await response.text(),
    });

    const status = operation.locator('.live-responses-table tbody .response-col_status').first();
    await expect(status.innerText()).resolves.toMatch(/^200/);
    await expect(operation.locator('.live-responses-table tbody .response-col_description .microlight').first().innerText()).resolves.toContain('browser@example.com');
  });

  it('loaded without script errors or failed requests', () => {
    expect(pageErrors).toEqual([]);
    expect(failedRequests).toEqual([]);
  });
});
