/**
 * OpenTelemetry tracing, with the production configuration (startTracing) exporting to memory instead of OTLP:
 * a POST makes one trace, its server span named by route template and carrying the request id, with a span per SQL
 * statement (BEGIN, INSERT, COMMIT) under it. Without an endpoint, nothing is started.
 *
 * OpenTelemetry patches `http` and `pg` through Node's require hook, which Jest's module loader bypasses
 * (open-telemetry/opentelemetry-js#3735): the traced app runs in a plain Node process (test/support/tracing-probe.ts)
 * against this worker's database, and reports its spans.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { SpanKind, trace } from '@opentelemetry/api';
import { REQUEST_ID_ATTRIBUTE, startTracing } from '../src/observability/tracing';
import type { ProbeRequest, ProbeResult, ProbeSpan } from './support/tracing-probe';

const ROOT = path.resolve(__dirname, '..');

async function runProbe(requests: ProbeRequest[]): Promise<ProbeResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['-r', '@swc-node/register', path.join(__dirname, 'support', 'tracing-probe.ts'), JSON.stringify(requests)],
    // No endpoint: the probe's in-memory exporter is the only one.
    { cwd: ROOT, env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' }, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as ProbeResult;
}

describe('without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('starts nothing: no tracer provider, spans are non-recording no-ops', () => {
    const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    try {
      expect(startTracing()).toBeUndefined();
      const span = trace.getTracer('probe').startSpan('probe');
      expect(span.isRecording()).toBe(false);
      expect(span.spanContext().traceId).toBe('0'.repeat(32));
      span.end();
    } finally {
      if (saved !== undefined) process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
    }
  });
});

describe('with tracing started (in-memory exporter, in a plain Node process)', () => {
  let result: ProbeResult;

  beforeAll(async () => {
    result = await runProbe([
      { method: 'POST', path: '/api/v1/posts', requestId: 'trace-probe-post', body: { title: 'Traced title', body: 'Traced body', authorId: 'admin' } },
      { method: 'GET', path: '/health/live', requestId: 'trace-probe-health' },
      { method: 'GET', path: '/api/v1/posts', requestId: 'trace-probe-a' },
      { method: 'GET', path: '/api/v1/posts', requestId: 'trace-probe-b' },
    ]);
  }, 90_000);

  const serverSpan = (requestId: string): ProbeSpan[] =>
    result.spans.filter((span) => span.kind === SpanKind.SERVER && span.attributes[REQUEST_ID_ATTRIBUTE] === requestId);

  it('answers as usual, with the request ids sent', () => {
    expect(result.responses).toEqual([
      { status: 201, requestId: 'trace-probe-post' },
      { status: 200, requestId: 'trace-probe-health' },
      { status: 200, requestId: 'trace-probe-a' },
      { status: 200, requestId: 'trace-probe-b' },
    ]);
  });

  it('makes one trace per request: the server span with the request id, BEGIN, INSERT and COMMIT spans under it', () => {
    const servers = serverSpan('trace-probe-post');
    expect(servers).toHaveLength(1);
    const [server] = servers;
    expect(server.name).toBe('POST /api/v1/posts');
    expect(server.attributes['http.route']).toBe('/api/v1/posts');

    const byId = new Map(result.spans.map((span) => [span.spanId, span]));
    const descendsFromServer = (span: ProbeSpan): boolean => {
      for (let parent = span.parentSpanId; parent !== undefined; parent = byId.get(parent)?.parentSpanId) {
        if (parent === server.spanId) return true;
      }
      return false;
    };
    const statements = result.spans
      .filter((span) => span.kind === SpanKind.CLIENT && typeof span.attributes['db.query.text'] === 'string' && span.traceId === server.traceId)
      .map((span) => ({ text: String(span.attributes['db.query.text']), underRequest: descendsFromServer(span) }));
    const kinds = statements.map((statement) => /^\s*(\w+)/.exec(statement.text)?.[1]?.toUpperCase());
    // Sequelize opens a transaction with START TRANSACTION (PostgreSQL's BEGIN).
    expect(kinds).toEqual(expect.arrayContaining(['START', 'INSERT', 'COMMIT']));
    expect(kinds.indexOf('START')).toBeLessThan(kinds.indexOf('INSERT'));
    expect(kinds.lastIndexOf('COMMIT')).toBeGreaterThan(kinds.indexOf('INSERT'));
    expect(statements.filter((statement) => !statement.underRequest)).toEqual([]);
    expect(statements.find((statement) => statement.text.startsWith('INSERT'))?.text).toMatch(/^INSERT INTO "?posts"? /);
  });

  it('puts no bound value on any span', () => {
    expect(JSON.stringify(result.spans)).not.toContain('Traced title');
  });

  it('keeps requests apart, each its own trace; health probes make none', () => {
    const [a, b] = [serverSpan('trace-probe-a'), serverSpan('trace-probe-b')];
    expect([a.length, b.length]).toEqual([1, 1]);
    expect(a[0].traceId).not.toBe(b[0].traceId);
    expect(a[0].name).toBe('GET /api/v1/posts');
    expect(serverSpan('trace-probe-health')).toEqual([]);
    // Only the requests' traces: no stray trace from the harness's own statements or the pool.
    const traces = new Set(result.spans.map((span) => span.traceId));
    expect(traces.size).toBe(3);
  });
});
