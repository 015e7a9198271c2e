/**
 * Run by test/tracing.e2e-spec.ts as a plain Node process (`node -r @swc-node/register`), because OpenTelemetry
 * patches libraries through Node's require hook, which Jest's module loader bypasses
 * (open-telemetry/opentelemetry-js#3735). Starts tracing as main.ts does, but exporting to memory; then boots the
 * app (loaded only now, like main.ts loads it), sends the requests the test names, and prints every finished span
 * as one JSON line on stdout.
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTracing } from '../../src/observability/tracing';

export interface ProbeRequest {
  method: string;
  path: string;
  requestId: string;
  /** Sent as JSON; `authorId: "admin"` is replaced by the harness admin's id. */
  body?: Record<string, unknown>;
}

export interface ProbeSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
}

export interface ProbeResult {
  responses: Array<{ status: number; requestId: string | null }>;
  spans: ProbeSpan[];
}

async function main(requests: ProbeRequest[]): Promise<ProbeResult> {
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  if (!tracing) throw new Error('tracing did not start');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createTestApp } = require('../utils/test-app') as typeof import('../utils/test-app');
  const t = await createTestApp({ env: { LOG_LEVEL: 'warn' } });
  const responses: ProbeResult['responses'] = [];
  try {
    for (const request of requests) {
      const body = request.body && Object.fromEntries(Object.entries(request.body).map(([key, value]) => [key, value === 'admin' ? t.admin.id : value]));
      const response = await t.request(request.method, request.path, { body, headers: { 'x-request-id': request.requestId } });
      responses.push({ status: response.status, requestId: response.headers.get('x-request-id') });
    }
    // The server span ends on the response's 'finish', just after the client has read it.
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    await t.close();
  }
  // Read before shutdown, which empties the in-memory exporter.
  const spans = exporter.getFinishedSpans().map((span) => ({
    name: span.name,
    kind: span.kind,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    attributes: { ...span.attributes },
  }));
  await tracing.shutdown();
  return { responses, spans };
}

main(JSON.parse(process.argv[2] ?? '[]') as ProbeRequest[]).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
