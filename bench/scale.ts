/**
 * `npm run bench:scale` (issue 16): the mixed scenario of `npm run bench` (80 % reads, 20 % writes, every write by a
 * logged-in user) through Debian's HAProxy in front of N = 1, 2, 4 instances of the app on one database, each
 * instance health-checked on /health/ready. For each N: throughput, p50 and p99 of the 2xx responses, failures, and
 * where the machine's CPU went (the instances, HAProxy, PostgreSQL, the load generator, the rest). Writes the table to
 * docs/scaling-results.md and a chart (throughput and p99 against N) to docs/scaling-chart.svg; `--smoke` checks the
 * harness in a minute and writes to bench/results/ only.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp, deepPage, productionNodeFlags, ROOT } from './lib/app';
import { AccessTokens, authEnvironment, authSettings } from './lib/auth';
import { lineChart } from './lib/chart';
import { Lifecycle } from './lib/lifecycle';
import { startCpuMeter, type CpuUse } from './lib/cpu';
import { migrate, Monitor, provisionDatabase, restore, seed } from './lib/database';
import { runLoad, type LoadResult, type RequestSpec } from './lib/load';
import { SCENARIOS, type ScenarioContext } from './lib/scenarios';
import { ServerHandle } from './lib/servers';
import { concat, median, percentile, round, statusCounts } from './lib/stats';
import { freePort } from '../test/utils/app-process';
import { CHECK_INTERVAL_MS, LoadBalancer, type ServerState } from '../test/utils/load-balancer';

const log = (message: string) => console.log(`[scale] ${message}`);
const MIXED = SCENARIOS.find((scenario) => scenario.name === 'mix 80/20')!;

type Options = ReturnType<typeof options>;

function options() {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      instances: { type: 'string' },
      connections: { type: 'string' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'pool-max': { type: 'string' },
      'no-build': { type: 'boolean', default: false },
    },
  });
  const smoke = values.smoke ?? false;
  const positive = (raw: string | undefined, fallback: number, name: string) => {
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
    return value;
  };
  const list = (raw: string, name: string) => raw.split(',').map((n) => Math.round(positive(n, 1, name)));
  const instances = list(values.instances ?? '1,2,4', 'instances');
  return {
    smoke,
    instances,
    // The benchmark's own concurrency for this scenario, and four times it: enough to keep four instances busy.
    connections: list(values.connections ?? (smoke ? '10' : '10,40'), 'connections'),
    rounds: Math.round(positive(values.rounds, smoke ? 1 : 3, 'rounds')),
    duration: positive(values.duration, smoke ? 2 : 10, 'duration'),
    warmup: positive(values.warmup, smoke ? 1 : 3, 'warmup'),
    poolMax: Math.round(positive(values['pool-max'], 10, 'pool-max')),
    users: smoke ? 200 : 2_000,
    posts: smoke ? 1_000 : 10_000,
    sessions: 200,
    build: !values['no-build'],
  };
}

interface Row {
  instances: number;
  connections: number;
  rps: number;
  roundRps: number[];
  p50Ms: number;
  p99Ms: number;
  responses: number;
  failures: number;
  statusCodes: Record<string, number>;
  cpu: CpuUse;
  /** PostgreSQL's share of the machine's busy CPU. */
  databaseShare: number;
  /** Times HAProxy's checks took an instance out of rotation, and requests it resent (both 0 in a sound run). */
  takenOut: number;
  resent: number;
}

const lifecycle = new Lifecycle('scale', log);

function averageCpu(uses: CpuUse[]): CpuUse {
  const mean = (pick: (use: CpuUse) => number) => round(uses.reduce((sum, use) => sum + pick(use), 0) / uses.length);
  return { server: mean((u) => u.server), database: mean((u) => u.database), harness: mean((u) => u.harness), balancer: mean((u) => u.balancer), other: mean((u) => u.other) };
}

function table(rows: Row[]): string {
  const lines = [
    '| instances | connections | req/s (median of rounds) | rounds | p50 ms | p99 ms | failed | taken out / resent | CPU cores: app / HAProxy / PostgreSQL / load generator / other (Redis included) | PostgreSQL share of busy CPU |',
    '|---:|---:|---:|:---|---:|---:|---:|---:|:---|---:|',
  ];
  for (const row of rows) {
    const { server, balancer, database, harness, other } = row.cpu;
    lines.push(
      `| ${row.instances} | ${row.connections} | ${Math.round(row.rps)} | ${row.roundRps.map(Math.round).join(', ')} | ${row.p50Ms.toFixed(1)} | ${row.p99Ms.toFixed(1)} | ${row.failures} | ${row.takenOut} / ${row.resent} | ` +
        `${server.toFixed(2)} / ${balancer.toFixed(2)} / ${database.toFixed(2)} / ${harness.toFixed(2)} / ${other.toFixed(2)} | ${Math.round(row.databaseShare * 100)} % |`,
    );
  }
  return lines.join('\n');
}

interface Level {
  instances: ServerHandle[];
  lb: LoadBalancer;
  monitor: Monitor;
  next: () => RequestSpec;
  connections: number;
  warmup: number;
  opts: Options;
}

/** One load level on N instances: warm-up, timed rounds with their CPU, and HAProxy's counters over the rounds. */
async function measureLevel({ instances, lb, monitor, next, connections, warmup, opts }: Level): Promise<Row> {
  const load = (seconds: number) => runLoad({ baseUrl: lb.baseUrl, connections, duration: seconds, next });
  await load(warmup);
  const results: LoadResult[] = [];
  const cpu: CpuUse[] = [];
  const before = await lb.servers();
  for (let round = 0; round < opts.rounds; round++) {
    const meter = startCpuMeter(
      instances.map((instance) => instance.pid),
      await monitor.backendPids(),
      [lb.pid],
    );
    results.push(await load(opts.duration));
    cpu.push(meter(await monitor.backendPids()));
    const exited = instances.find((instance) => instance.exited);
    if (exited) throw new Error(`${exited.name} ${exited.exited}\n${exited.tail()}`);
  }
  // An instance taken out of rotation during the run, or a request HAProxy had to resend, makes the figures suspect.
  const after = await lb.servers();
  const delta = (pick: (server: ServerState) => number) => after.reduce((total, server, i) => total + pick(server) - pick(before[i]), 0);
  const latencies = concat(results.map((result) => result.latencies));
  const use = averageCpu(cpu);
  const busy = use.server + use.balancer + use.database + use.harness + use.other;
  return {
    instances: instances.length,
    connections,
    rps: round(median(results.map((result) => result.rps)), 1),
    roundRps: results.map((result) => round(result.rps, 1)),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    responses: results.reduce((total, result) => total + result.responses, 0),
    failures: results.reduce((total, result) => total + result.non2xx + result.errors, 0),
    statusCodes: statusCounts(results),
    cpu: use,
    databaseShare: busy > 0 ? use.database / busy : 0,
    takenOut: delta((server) => server.checkDowns),
    resent: delta((server) => server.retries + server.redispatches),
  };
}

async function main(): Promise<number> {
  const opts = options();
  lifecycle.limit(20 * 60_000);
  execFileSync('bash', [path.join(ROOT, 'scripts', 'ensure-haproxy.sh')], { stdio: 'inherit' });
  if (opts.build) buildApp(log);

  const db = await provisionDatabase((message) => log(`postgres: ${message}`));
  lifecycle.add(() => db.dispose());
  await migrate(db.url);
  const auth = authSettings();
  const { userIds, published, lastPostId, sessions, endedSession } = await seed(db.url, opts, auth.sessionTtlSeconds);
  log(`database ${db.server}: ${userIds.length} users, ${opts.posts} posts, ${sessions.length} users logged in`);
  const monitor = await Monitor.open(db.url, false);
  lifecycle.add(() => monitor.close());
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

  const environment = {
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    LOG_LEVEL: 'warn',
    DB_POOL_MAX: String(opts.poolMax),
    ...authEnvironment(auth),
    // As several instances run in production: rate limits on and counted in Redis (the limit is out of reach: every
    // request of the load generator comes from one address).
    RATE_LIMIT: 'on',
    RATE_LIMIT_MAX: '1000000',
    REDIS_URL: redisUrl,
  };
  const tokens = new AccessTokens(auth);
  // The mixed scenario reads no deep page, but its context carries one: fetched once, from the first N's balancer.
  let deep: ScenarioContext['deepPage'] | undefined;
  const rows: Row[] = [];
  for (const count of opts.instances) {
    const instances: ServerHandle[] = [];
    let balancer: LoadBalancer | undefined;
    const stop = async () => {
      await balancer?.stop();
      await Promise.all(instances.map((instance) => instance.stop()));
    };
    const unregister = lifecycle.add(stop);
    try {
      for (let i = 0; i < count; i++) {
        instances.push(
          await ServerHandle.start({
            name: `app${i + 1}`,
            script: path.join(ROOT, 'dist', 'main.js'),
            cwd: ROOT,
            port: await freePort(),
            env: environment,
            nodeArgs: productionNodeFlags(),
            countStatements: false,
          }),
        );
      }
      const lb = await LoadBalancer.start({ ports: instances.map((instance) => Number(new URL(instance.baseUrl).port)) });
      balancer = lb;
      await lb.allUp();
      deep ??= await deepPage(lb.baseUrl, published);
      const next = MIXED.generator({ userIds, sessions, endedSession, tokens, deepPage: deep });
      for (const [step, connections] of opts.connections.entries()) {
        // Every instance warms up as one would alone (JIT, pool connections): the first warm-up lasts N times as long.
        const row = await measureLevel({ instances, lb, monitor, next, connections, warmup: step === 0 ? opts.warmup * count : opts.warmup, opts });
        rows.push(row);
        // What the instances said about their failures (LOG_LEVEL=warn: the 503s of a database fault or of shedding).
        if (row.failures > 0) for (const instance of instances) log(`last output of ${instance.name}:\n${instance.tail(10)}`);
        log(
          `N=${count} c=${connections}: ${Math.round(row.rps)} req/s, p99 ${row.p99Ms} ms, ${row.failures} failed, ${row.takenOut} taken out, ${row.resent} resent, ` +
            `CPU ${JSON.stringify(row.cpu)}`,
        );
        // The writes of this run would otherwise grow the data the next one reads.
        await restore(db.url, lastPostId);
      }
    } finally {
      unregister();
      await stop();
    }
  }

  const machine = `${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${round(os.totalmem() / 2 ** 30, 1)} GiB, Node ${process.version}, ${db.server.replace(/, database \S+$/, '')}`;
  const settings =
    `mixed scenario (80 % reads, 20 % writes) at ${opts.connections.join(' and ')} connections through HAProxy (round robin, /health/ready checked every ${CHECK_INTERVAL_MS} ms), ` +
    `${opts.rounds} rounds of ${opts.duration} s after ${opts.warmup} s of warm-up (N times that for the first level) per N and level; DB_POOL_MAX=${opts.poolMax} per instance; rate limits on, counted in Redis; ` +
    `${userIds.length} users, ${opts.posts} posts`;
  const markdown = [
    `<!-- Written by \`npm run bench:scale\` (bench/scale.ts) on ${new Date().toISOString().slice(0, 10)}; see docs/scaling.md. -->`,
    '',
    `Machine: ${machine}.`,
    '',
    `Load: ${settings}. The load generator (autocannon) runs on the same machine.`,
    '',
    table(rows),
    '',
  ].join('\n');
  const byLevel = (pick: (row: Row) => number, shades: string[]) =>
    opts.connections.map((connections, i) => ({
      label: `${connections} connections`,
      colour: shades[i % shades.length],
      values: opts.instances.map((count) => pick(rows.find((row) => row.instances === count && row.connections === connections)!)),
    }));
  const chart = lineChart(
    `Mixed scenario through HAProxy, ${os.availableParallelism()} cores`,
    'instances behind the load balancer (evenly spaced, not to scale)',
    opts.instances,
    { label: 'throughput', unit: 'req/s', series: byLevel((row) => row.rps, ['#1f77b4', '#17becf']) },
    { label: 'p99', unit: 'ms', series: byLevel((row) => row.p99Ms, ['#d62728', '#ff7f0e']) },
  );
  const results = path.join(ROOT, 'bench', 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(path.join(results, opts.smoke ? 'scale-smoke.json' : 'scale.json'), `${JSON.stringify({ date: new Date().toISOString(), machine, settings, rows }, null, 2)}\n`);
  const [markdownFile, chartFile] = opts.smoke
    ? [path.join(results, 'scale-smoke.md'), path.join(results, 'scale-smoke.svg')]
    : [path.join(ROOT, 'docs', 'scaling-results.md'), path.join(ROOT, 'docs', 'scaling-chart.svg')];
  writeFileSync(markdownFile, markdown);
  writeFileSync(chartFile, chart);
  console.log(`\n${table(rows)}\n`);
  log(`wrote ${path.relative(ROOT, markdownFile)} and ${path.relative(ROOT, chartFile)}`);
  // Speed never fails the run; a failed request or a run with no answer does.
  const failed = rows.filter((row) => row.failures > 0 || row.responses === 0 || row.takenOut > 0 || row.resent > 0);
  for (const row of failed) {
    log(`N=${row.instances} c=${row.connections}: ${row.failures} failed requests of ${row.responses} (${JSON.stringify(row.statusCodes)}), ${row.takenOut} instances taken out, ${row.resent} requests resent`);
  }
  return failed.length > 0 ? 1 : 0;
}

lifecycle.run(main);
