/**
 * Before any load, the same probe goes to both servers and the answers must agree: status code, JSON
 * shape (keys and value kinds, recursively), and for lists the same rows in the same order. A baseline
 * that returned less, or differently, would make every ratio meaningless.
 */
import { headersOf, type RequestSpec } from './load';
import { PROBES, type ScenarioContext } from './scenarios';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** A type signature of a JSON value: object keys sorted, arrays by their first element. */
export function shapeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[${shapeOf(value[0])}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([key, child]) => `${key}:${shapeOf(child)}`).join(',')}}`;
  }
  if (typeof value === 'string' && ISO_DATE.test(value)) return 'date';
  return typeof value;
}

interface Answer {
  status: number;
  body: unknown;
  /** The WWW-Authenticate header (RFC 6750), which a 401 must carry. */
  challenge: string | null;
  /** The security and caching headers, which both servers must send alike (same bytes on the wire). */
  security: string;
}

const SECURITY_HEADER_NAMES = ['content-security-policy', 'strict-transport-security', 'x-content-type-options', 'x-frame-options', 'referrer-policy', 'cache-control'];

async function call(baseUrl: string, spec: RequestSpec): Promise<Answer> {
  const response = await fetch(baseUrl + spec.path, {
    method: spec.method,
    headers: headersOf(spec),
    body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // kept as text: the shape check reports it
  }
  const security = JSON.stringify(SECURITY_HEADER_NAMES.map((name) => [name, response.headers.get(name)]));
  return { status: response.status, body, challenge: response.headers.get('www-authenticate'), security };
}

/** Ids of a list page, with the sorted ids of each row's posts when included. */
function listIdentity(body: unknown): string | undefined {
  const data = (body as { data?: unknown })?.data;
  if (!Array.isArray(data)) return undefined;
  return JSON.stringify(
    data.map((row: { id: number; posts?: Array<{ id: number }> }) =>
      row.posts ? [row.id, row.posts.map((post) => post.id).sort((a, b) => a - b)] : row.id,
    ),
  );
}

function errorShape(body: unknown): string {
  const error = body as { statusCode?: unknown; error?: unknown; message?: unknown };
  const message = typeof error?.message === 'string' || Array.isArray(error?.message) ? 'message' : typeof error?.message;
  return `${typeof error?.statusCode}/${typeof error?.error}/${message}`;
}

/** Returns the problems found; empty when both servers agree with each other and the contract. */
export async function checkContract(appUrl: string, baselineUrl: string, ctx: ScenarioContext): Promise<string[]> {
  const problems: string[] = [];
  for (const probe of PROBES) {
    const spec = probe.request(ctx);
    const [app, baseline] = [await call(appUrl, spec), await call(baselineUrl, spec)];
    const where = `${probe.name} (${spec.method} ${spec.path})`;
    if (app.status !== probe.expectStatus) problems.push(`${where}: app answered ${app.status}, expected ${probe.expectStatus}: ${JSON.stringify(app.body).slice(0, 300)}`);
    if (baseline.status !== probe.expectStatus) {
      problems.push(`${where}: baseline answered ${baseline.status}, expected ${probe.expectStatus}: ${JSON.stringify(baseline.body).slice(0, 300)}`);
    }
    if (app.status !== probe.expectStatus || baseline.status !== probe.expectStatus) continue;
    if (app.security !== baseline.security) problems.push(`${where}: security headers differ\n    app:      ${app.security}\n    baseline: ${baseline.security}`);
    if (probe.expectStatus >= 400) {
      if (errorShape(app.body) !== 'number/string/message') problems.push(`${where}: app error body is not { statusCode, error, message }`);
      if (probe.expectStatus === 401 && (app.challenge === null || app.challenge !== baseline.challenge)) {
        problems.push(`${where}: WWW-Authenticate differs: app ${JSON.stringify(app.challenge)}, baseline ${JSON.stringify(baseline.challenge)}`);
      }
      continue;
    }
    const [appShape, baselineShape] = [shapeOf(app.body), shapeOf(baseline.body)];
    if (appShape !== baselineShape) problems.push(`${where}: shapes differ\n    app:      ${appShape}\n    baseline: ${baselineShape}`);
    const [appRows, baselineRows] = [listIdentity(app.body), listIdentity(baseline.body)];
    if (appRows !== baselineRows) problems.push(`${where}: different rows\n    app:      ${appRows?.slice(0, 300)}\n    baseline: ${baselineRows?.slice(0, 300)}`);
    const [appMeta, baselineMeta] = [JSON.stringify((app.body as { meta?: unknown }).meta), JSON.stringify((baseline.body as { meta?: unknown }).meta)];
    if (appMeta !== baselineMeta) problems.push(`${where}: meta differs: app ${appMeta}, baseline ${baselineMeta}`);
  }
  return problems;
}
