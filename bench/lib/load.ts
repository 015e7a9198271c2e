/**
 * One load run with autocannon's programmatic API, in this (the harness) process. Latencies are taken
 * from autocannon's per-response event at sub-millisecond precision (its histogram keeps whole ms).
 */
import autocannon from 'autocannon';

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body?: unknown;
  /** Sent as `Authorization: Bearer <token>`; absent: an anonymous request. */
  token?: string;
}

export interface LoadOptions {
  baseUrl: string;
  connections: number;
  /** Seconds; or `amount` for a fixed number of requests. */
  duration?: number;
  amount?: number;
  next: () => RequestSpec;
}

export interface LoadResult {
  responses: number;
  ok: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
  durationS: number;
  /** 2xx responses per second: failures never count as throughput. */
  rps: number;
  /** Latencies of 2xx responses, ms, unsorted. */
  latencies: Float64Array;
}

/** The request's own headers (autocannon adds host and content-length). */
export function headersOf(spec: RequestSpec): Record<string, string> {
  const headers: Record<string, string> = {};
  if (spec.body !== undefined) headers['content-type'] = 'application/json';
  if (spec.token !== undefined) headers.authorization = `Bearer ${spec.token}`;
  return headers;
}

export function toRequest(spec: RequestSpec): autocannon.Request {
  const request: autocannon.Request = { method: spec.method, path: spec.path, headers: headersOf(spec) };
  if (spec.body !== undefined) request.body = JSON.stringify(spec.body);
  return request;
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const limitMs = ((options.duration ?? 0) + 60) * 1000;
  return new Promise((resolve, reject) => {
    let latencies = new Float64Array(16_384);
    let count = 0;
    const instance = autocannon(
      {
        url: options.baseUrl,
        connections: options.connections,
        ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? 5 }),
        timeout: 10,
        requests: [{ setupRequest: (request) => ({ ...request, ...toRequest(options.next()) }) }],
      },
      (error, result) => {
        clearTimeout(watchdog);
        if (error) return reject(error);
        const statusCodes: Record<string, number> = {};
        for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = (stat as { count: number }).count;
        const ok = result['2xx'];
        resolve({
          responses: ok + result.non2xx,
          ok,
          non2xx: result.non2xx,
          errors: result.errors, // socket errors, timeouts included
          statusCodes,
          durationS: result.duration,
          rps: ok / result.duration,
          latencies: latencies.subarray(0, count),
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode < 200 || statusCode > 299) return;
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = responseTime;
    });
    // A stalled server must not hang the harness.
    const watchdog = setTimeout(() => instance.stop(), limitMs);
  });
}
