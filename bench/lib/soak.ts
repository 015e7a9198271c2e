/**
 * `npm run bench -- --soak` (issue 12): the app alone under the mixed load for minutes, sampled between load slices for
 * resident memory (from /proc) and event-loop lag (the app's own /metrics, prom-client's per-scrape p99), and a verdict
 * on whether either trends upward once warm. A leak shows as a steady slope, not as a high value.
 */
import type { RequestSpec } from './load';
import { runLoad } from './load';
import { median, round } from './stats';

export interface SoakSample {
  /** Seconds since the soak began, at the end of the slice. */
  atS: number;
  rssMb: number;
  heapUsedMb?: number;
  eventLoopLagP99Ms?: number;
  rps: number;
  failures: number;
}

export interface Trend {
  /** Least-squares slope over the steady part, per minute. */
  slopePerMin: number;
  /** Median of the steady part's first and last thirds. */
  firstThird: number;
  lastThird: number;
  flat: boolean;
}

export interface SoakReport {
  minutes: number;
  sliceSeconds: number;
  warmupSamples: number;
  samples: SoakSample[];
  rss: Trend;
  eventLoopLagP99?: Trend;
  requests: number;
  failures: number;
}

export interface SoakOptions {
  baseUrl: string;
  metricsToken: string;
  minutes: number;
  sliceSeconds: number;
  concurrency: number;
  next: () => RequestSpec;
  rssMb: () => number;
  log: (message: string) => void;
}

/** The first fifth of the run is warm-up (JIT, pool, caches): a trend is judged on the rest. */
const WARMUP_SHARE = 0.2;

export async function soak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const samples: SoakSample[] = [];
  let requests = 0;
  let failures = 0;
  while (Date.now() - started < options.minutes * 60_000) {
    const result = await runLoad({ baseUrl: options.baseUrl, connections: options.concurrency, duration: options.sliceSeconds, next: options.next });
    const metrics = await scrape(options.baseUrl, options.metricsToken);
    const sample: SoakSample = {
      atS: round((Date.now() - started) / 1000, 1),
      rssMb: round(options.rssMb(), 1),
      heapUsedMb: metrics.get('nodejs_heap_size_used_bytes') === undefined ? undefined : round(metrics.get('nodejs_heap_size_used_bytes')! / 2 ** 20, 1),
      eventLoopLagP99Ms: metrics.get('nodejs_eventloop_lag_p99_seconds') === undefined ? undefined : round(metrics.get('nodejs_eventloop_lag_p99_seconds')! * 1000, 2),
      rps: round(result.rps, 0),
      failures: result.non2xx + result.errors,
    };
    samples.push(sample);
    requests += result.responses;
    failures += sample.failures;
    options.log(
      `soak ${sample.atS} s: ${sample.rps} req/s, RSS ${sample.rssMb} MB, heap ${sample.heapUsedMb ?? '-'} MB, ` +
        `event-loop lag p99 ${sample.eventLoopLagP99Ms ?? '-'} ms${sample.failures ? `, ${sample.failures} failures` : ''}`,
    );
  }
  const warmupSamples = Math.max(1, Math.floor(samples.length * WARMUP_SHARE));
  const steady = samples.slice(warmupSamples);
  const lag = steady.filter((sample) => sample.eventLoopLagP99Ms !== undefined);
  return {
    minutes: options.minutes,
    sliceSeconds: options.sliceSeconds,
    warmupSamples,
    samples,
    // Memory is flat when the steady part grows by less than 10 % (or 10 MB) from its first third to its last.
    rss: trend(steady.map((sample) => [sample.atS, sample.rssMb]), (first, last) => last - first <= Math.max(10, first * 0.1)),
    // Lag is flat when its last third is within 1.5 times (plus 2 ms) of its first.
    eventLoopLagP99: lag.length >= 3 ? trend(lag.map((sample) => [sample.atS, sample.eventLoopLagP99Ms!]), (first, last) => last <= first * 1.5 + 2) : undefined,
    requests,
    failures,
  };
}

function trend(points: Array<[number, number]>, isFlat: (firstThird: number, lastThird: number) => boolean): Trend {
  const n = points.length;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const covariance = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const variance = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  const third = Math.max(1, Math.floor(n / 3));
  const firstThird = median(points.slice(0, third).map(([, y]) => y));
  const lastThird = median(points.slice(-third).map(([, y]) => y));
  return {
    slopePerMin: round(variance === 0 ? 0 : (covariance / variance) * 60, 2),
    firstThird: round(firstThird, 2),
    lastThird: round(lastThird, 2),
    flat: isFlat(firstThird, lastThird),
  };
}

/** The unlabelled samples of a Prometheus text exposition, by metric name. */
export async function scrape(baseUrl: string, token: string): Promise<Map<string, number>> {
  const values = new Map<string, number>();
  const response = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}: the soak needs the app's metrics`);
  for (const line of (await response.text()).split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*) (\S+)$/.exec(line);
    if (match) values.set(match[1], Number(match[2]));
  }
  return values;
}

export function soakTable(report: SoakReport): string {
  const verdict = (name: string, trendOf: Trend | undefined, unit: string) =>
    trendOf
      ? `${name}: ${trendOf.flat ? 'flat' : 'RISING'} (steady part ${trendOf.firstThird} → ${trendOf.lastThird} ${unit}, slope ${trendOf.slopePerMin} ${unit}/min)`
      : `${name}: not sampled`;
  const rows = report.samples.map(
    (sample) => `| ${sample.atS} | ${sample.rps} | ${sample.rssMb} | ${sample.heapUsedMb ?? '-'} | ${sample.eventLoopLagP99Ms ?? '-'} | ${sample.failures} |`,
  );
  return [
    `Soak: ${report.minutes} min of the mixed load, ${report.requests} requests, ${report.failures} failures; the first ${report.warmupSamples} samples are warm-up.`,
    verdict('RSS', report.rss, 'MB'),
    verdict('event-loop lag p99', report.eventLoopLagP99, 'ms'),
    '',
    '| s | req/s | RSS MB | heap MB | lag p99 ms | failures |',
    '|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
