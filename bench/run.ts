/**
 * `npm run bench` / `npm run bench:smoke` (issue 6): seeds a throwaway database, starts the app
 * (dist/main.js) and the raw-pg baseline as child processes, checks they answer alike, then drives
 * both with autocannon in interleaved rounds and reports throughput, latency, failures, statements
 * per request and peak RSS, with the median of the paired app/baseline throughput ratios.
 * See bench/README.md for the method.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';
import { buildApp, deepPage, productionNodeFlags, ROOT } from './lib/app';
import { Lifecycle } from './lib/lifecycle';
import { AccessTokens, authEnvironment, authSettings } from './lib/auth';
import { checkContract } from './lib/contract';
import { freePort } from '../test/utils/app-process';
import { migrate, provisionDatabase, searchPlans, seed, Monitor, restore, type BenchDatabase, type SearchPlan } from './lib/database';
import { runLoad, type LoadResult } from './lib/load';
import { SCENARIOS, type Scenario, type ScenarioContext } from './lib/scenarios';
import { ServerHandle } from './lib/servers';
import { scrape, soak, soakTable } from './lib/soak';
import { startCpuMeter, type CpuUse } from './lib/cpu';
import { concat, median, percentile, round, statusCounts } from './lib/stats';

const RESULTS = path.join(ROOT, 'bench', 'results');

type Target = 'app' | 'baseline';

interface Options {
  smoke: boolean;
  rounds: number;
  duration: number;
  warmup: number;
  users: number;
  posts: number;
  sessions: number;
  poolMax: number;
  only?: Target;
  filter?: string;
  build: boolean;
  cpuProf: boolean;
  /** Metrics on in the app (METRICS_TOKEN set) and scraped every METRICS_SCRAPE_MS, as Prometheus would. */
  metrics: boolean;
  /** Minutes of the soak run instead of the scenarios; undefined: no soak. */
  soakMinutes?: number;
  /** Settings for the app only (`--app-env NAME=value`, repeatable): what a setting costs, measured. */
  appEnv: Record<string, string>;
}

const METRICS_SCRAPE_MS = 5_000;

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      users: { type: 'string' },
      posts: { type: 'string' },
      sessions: { type: 'string' },
      only: { type: 'string' },
      scenario: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      metrics: { type: 'boolean', default: false },
      soak: { type: 'boolean', default: false },
      'soak-minutes': { type: 'string' },
      'app-env': { type: 'string', multiple: true },
    },
  });
  const smoke = values.smoke ?? false;
  const number = (raw: string | undefined, fallback: number, name: string) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
    return value;
  };
  if (values.only !== undefined && values.only !== 'app' && values.only !== 'baseline') throw new Error('--only must be app or baseline');
  return {
    smoke,
    rounds: Math.round(number(values.rounds, smoke ? 1 : 5, 'rounds')),
    duration: number(values.duration, smoke ? 1 : 5, 'duration'),
    warmup: number(values.warmup, smoke ? 0.5 : 2, 'warmup'),
    users: Math.round(number(values.users, smoke ? 200 : 10_000, 'users')),
    posts: Math.round(number(values.posts, smoke ? 1_000 : 50_000, 'posts')),
    sessions: Math.round(number(values.sessions, 200, 'sessions')),
    poolMax: Math.round(number(process.env.BENCH_POOL_MAX, 10, 'BENCH_POOL_MAX')),
    only: values.only as Target | undefined,
    filter: values.scenario,
    build: !values['no-build'],
    cpuProf: values['cpu-prof'] ?? false,
    metrics: (values.metrics ?? false) || (values.soak ?? false),
    soakMinutes: values.soak ? number(values['soak-minutes'], 3, 'soak-minutes') : undefined,
    appEnv: Object.fromEntries(
      (values['app-env'] ?? []).map((setting) => {
        const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(setting);
        if (!match) throw new Error(`--app-env takes NAME=value, not ${JSON.stringify(setting)}`);
        return [match[1], match[2]];
      }),
    ),
  };
}

const log = (message: string) => console.log(`[bench] ${message}`);

const lifecycle = new Lifecycle('bench', log);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------------

/** The baseline runs on plain `node`, like the app: transpiled once, no loader hooks in its process. */
function transpileBaseline(): string {
  const source = path.join(ROOT, 'bench', 'baseline-server.ts');
  const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
    fileName: source,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const dir = path.join(RESULTS, '.build');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'baseline-server.js');
  writeFileSync(file, outputText);
  return file;
}

interface Server {
  target: Target;
  handle: ServerHandle;
}

interface TargetSummary {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  statementsPerRequest: number;
  rssMb: number;
}

interface ScenarioOutcome {
  scenario: Scenario;
  runs: Partial<Record<Target, LoadResult[]>>;
  summary: Partial<Record<Target, TargetSummary>>;
  detail: Partial<Record<Target, { non2xx: number; socketErrors: number; statusCodes: Record<string, number>; serverStatementsPerRequest?: number; roundRps: number[]; roundCpuCores: CpuUse[] }>>;
  ratio?: { median: number; min: number; max: number; rounds: number[] };
}

/** Waits until the server has sent no statement for 200 ms (bounded to 5 s). */
async function settle(handle: ServerHandle): Promise<void> {
  let last = await handle.statements();
  for (let quiet = 0, waited = 0; quiet < 2 && waited < 5000; waited += 100) {
    await sleep(100);
    const now = await handle.statements();
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
}

async function measure(scenario: Scenario, servers: Server[], ctx: ScenarioContext, options: Options, monitor: Monitor): Promise<ScenarioOutcome> {
  const label = `${scenario.name} c=${scenario.concurrency}`;
  const next = scenario.generator(ctx);
  const run = (server: Server, seconds: number) =>
    runLoad({ baseUrl: server.handle.baseUrl, connections: scenario.concurrency, duration: seconds, next });
  const cpu: Partial<Record<Target, CpuUse[]>> = {};

  // Warm-up (discarded): JIT, pool connections, caches.
  for (const server of servers) await run(server, options.warmup);
  for (const server of servers) server.handle.startPeakWindow();

  const runs: Partial<Record<Target, LoadResult[]>> = {};
  for (let round = 0; round < options.rounds; round++) {
    // A B, then B A: neither server always runs first, so slow drift (heat, autovacuum) cancels out.
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    const line: string[] = [];
    for (const server of order) {
      const meter = startCpuMeter([server.handle.pid], await monitor.backendPids());
      const result = await run(server, options.duration);
      const use = meter(await monitor.backendPids());
      (runs[server.target] ??= []).push(result);
      (cpu[server.target] ??= []).push(use);
      const failures = result.non2xx + result.errors ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : '';
      line.push(`${server.target} ${Math.round(result.rps)} req/s (cpu: server ${use.server}, pg ${use.database}, load gen ${use.harness}, other ${use.other}${failures})`);
      if (server.handle.exited) throw new Error(`${server.target} ${server.handle.exited} during ${label}\n${server.handle.tail()}`);
    }
    log(`${label} round ${round + 1}/${options.rounds}: ${line.join(' | ')}`);
  }
  const rss = Object.fromEntries(servers.map((server) => [server.target, server.handle.peakRssMb()])) as Record<Target, number>;

  // Statement audit: a fixed number of requests with nothing in flight before or after, so the
  // counter deltas divide exactly by the responses. A timed run ends with requests still queued in
  // the server (up to c of them), hence the wait for the counter to settle first.
  const audits: Partial<Record<Target, { perRequest: number; serverPerRequest?: number }>> = {};
  const amount = Math.max(200, scenario.concurrency * 5);
  for (const server of servers) {
    await settle(server.handle);
    const [before, serverBefore] = [await server.handle.statements(), await monitor.statementTotal()];
    const result = await runLoad({ baseUrl: server.handle.baseUrl, connections: scenario.concurrency, amount, next });
    const [after, serverAfter] = [await server.handle.statements(), await monitor.statementTotal()];
    audits[server.target] = {
      perRequest: (after - before) / Math.max(1, result.responses),
      serverPerRequest: serverBefore === undefined || serverAfter === undefined ? undefined : (serverAfter - serverBefore) / Math.max(1, result.responses),
    };
  }

  const outcome: ScenarioOutcome = { scenario, runs, summary: {}, detail: {} };
  for (const server of servers) {
    const results = runs[server.target] ?? [];
    const latencies = concat(results.map((result) => result.latencies));
    const statusCodes = statusCounts(results);
    const non2xx = results.reduce((sum, result) => sum + result.non2xx, 0);
    const socketErrors = results.reduce((sum, result) => sum + result.errors, 0);
    outcome.summary[server.target] = {
      rps: round(median(results.map((result) => result.rps)), 1),
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      errors: non2xx + socketErrors,
      statementsPerRequest: round(audits[server.target]!.perRequest),
      rssMb: round(rss[server.target], 1),
    };
    outcome.detail[server.target] = {
      non2xx,
      socketErrors,
      statusCodes,
      serverStatementsPerRequest: audits[server.target]!.serverPerRequest === undefined ? undefined : round(audits[server.target]!.serverPerRequest!),
      roundRps: results.map((result) => round(result.rps, 1)),
      roundCpuCores: cpu[server.target] ?? [],
    };
  }
  const app = runs.app;
  const baseline = runs.baseline;
  if (app && baseline) {
    const ratios = app.map((result, i) => result.rps / baseline[i].rps);
    outcome.ratio = { median: round(median(ratios), 3), min: round(Math.min(...ratios), 3), max: round(Math.max(...ratios), 3), rounds: ratios.map((r) => round(r, 3)) };
  }
  return outcome;
}

// ---------------------------------------------------------------------------------------------------
// Report

function pad(value: string, width: number, left = false): string {
  return left ? value.padEnd(width) : value.padStart(width);
}

function fmt(value: number | undefined, digits = 1): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

function table(outcomes: ScenarioOutcome[]): string {
  const header = ['scenario', 'c', 'app req/s', 'base req/s', 'ratio (min–max)', 'app p50/p99 ms', 'base p50/p99 ms', 'fail app/base', 'stmts app/base', 'RSS MB app/base', 'other CPU'];
  const rows = outcomes.map(({ scenario, summary: { app, baseline }, ratio, detail }) => [
    scenario.name,
    String(scenario.concurrency),
    fmt(app?.rps, 0),
    fmt(baseline?.rps, 0),
    ratio ? `${ratio.median.toFixed(2)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})` : '-',
    `${fmt(app?.p50Ms)}/${fmt(app?.p99Ms)}`,
    `${fmt(baseline?.p50Ms)}/${fmt(baseline?.p99Ms)}`,
    `${app?.errors ?? '-'}/${baseline?.errors ?? '-'}`,
    `${fmt(app?.statementsPerRequest, 2)}/${fmt(baseline?.statementsPerRequest, 2)}`,
    `${fmt(app?.rssMb, 0)}/${fmt(baseline?.rssMb, 0)}`,
    // Cores used by processes outside the run (median over all timed runs): the noise on a shared machine.
    fmt(median([...(detail.app?.roundCpuCores ?? []), ...(detail.baseline?.roundCpuCores ?? [])].map((use) => use.other)), 2),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => pad(cell, widths[i], i === 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((width, i) => (i === 0 ? ':' : '-') + '-'.repeat(width) + (i === 0 ? '-' : ':')).join('|')}|`, ...rows.map(line)].join('\n');
}

function machine(db: BenchDatabase): Record<string, unknown> {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model,
    memoryGb: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    database: db.server,
    loadGenerator: 'autocannon (in the harness process, same machine)',
  };
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseOptions();
  const started = Date.now();
  const limitMs = options.soakMinutes !== undefined ? (options.soakMinutes + 15) * 60_000 : options.smoke ? 8 * 60_000 : 25 * 60_000;
  lifecycle.limit(limitMs);

  // --scenario picks one scenario by its exact label ("GET /users/:id c=10"), or every label containing it.
  const label = (scenario: Scenario) => `${scenario.name} c=${scenario.concurrency}`;
  const exact = SCENARIOS.filter((scenario) => label(scenario) === options.filter);
  const soaking = options.soakMinutes !== undefined;
  // A soak drives the app alone with the mixed load.
  const scenarios = soaking
    ? SCENARIOS.filter((scenario) => scenario.name === 'mix 80/20')
    : exact.length > 0
      ? exact
      : SCENARIOS.filter((scenario) => !options.filter || label(scenario).includes(options.filter));
  if (scenarios.length === 0) throw new Error(`no scenario matches ${options.filter}`);
  const targets: Target[] = soaking ? ['app'] : options.only ? [options.only] : ['app', 'baseline'];

  if (targets.includes('app') && options.build) buildApp(log);
  const baselineScript = transpileBaseline();

  const db = await provisionDatabase((message) => log(`postgres: ${message}`));
  lifecycle.add(() => db.dispose());
  log(`database: ${db.server}`);
  const applied = await migrate(db.url);
  log(`migrations applied: ${applied.join(', ')}`);
  const seedStart = Date.now();
  const auth = authSettings();
  const { userIds, published, lastPostId: lastSeededPostId, sessions, endedSession } = await seed(db.url, options, auth.sessionTtlSeconds);
  const admins = sessions.filter((session) => session.role === 'admin').length;
  log(
    `seeded ${userIds.length} users, ${options.posts} posts (${published} published) and login sessions for ${sessions.length} users ` +
      `(${admins} admins) in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`,
  );
  const terms = [...new Set(scenarios.flatMap((scenario) => scenario.searchTerms ?? []))];
  const plans: SearchPlan[] = terms.length > 0 ? await searchPlans(db.url, terms) : [];
  const offIndex = plans.filter((plan) => !plan.trigram);
  if (plans.length > 0 && offIndex.length === 0) log(`search plans: the count and the page of all ${plans.length} terms read the trigram indexes`);
  for (const plan of offIndex) log(`search plan of ${JSON.stringify(plan.term.slice(0, 40))} leaves the trigram indexes: count ${plan.count}; page ${plan.page}`);
  const monitor = await Monitor.open(db.url, db.statStatements);
  lifecycle.add(() => monitor.close());
  if (!db.statStatements) log('pg_stat_statements is not available on this server: server-side statement counts are skipped');

  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    LOG_LEVEL: 'warn',
    DB_POOL_MAX: String(options.poolMax),
    MIGRATE_ON_START: 'true',
    // The same signing key, issuer and audience for both; rate limiting off.
    ...authEnvironment(auth),
  };
  const metricsToken = randomBytes(24).toString('base64url');
  const appEnv = { ...env, ...(options.metrics && { METRICS_TOKEN: metricsToken }), ...options.appEnv };
  const servers: Server[] = [];
  for (const target of targets) {
    const profileDir = path.join(RESULTS, 'profiles', target);
    const handle = await ServerHandle.start({
      name: target,
      script: target === 'app' ? path.join(ROOT, 'dist', 'main.js') : baselineScript,
      cwd: ROOT,
      port: await freePort(),
      env: target === 'app' ? appEnv : env,
      nodeArgs: [...(target === 'app' ? productionNodeFlags() : []), ...(options.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])],
    });
    lifecycle.add(() => handle.stop());
    servers.push({ target, handle });
    log(`${target} ready at ${handle.baseUrl} (pid ${handle.pid}${target === 'app' ? `, node ${productionNodeFlags().join(' ') || 'without flags'}` : ''})${options.cpuProf ? `, CPU profile to ${profileDir}` : ''}`);
  }

  const ctx: ScenarioContext = { userIds, sessions, endedSession, tokens: new AccessTokens(auth), deepPage: await deepPage(servers[0].handle.baseUrl, published) };
  const app = servers.find((server) => server.target === 'app');
  const baseline = servers.find((server) => server.target === 'baseline');

  if (soaking && app) {
    const report = await soak({
      baseUrl: app.handle.baseUrl,
      metricsToken,
      minutes: options.soakMinutes!,
      sliceSeconds: 10,
      concurrency: scenarios[0].concurrency,
      next: scenarios[0].generator(ctx),
      rssMb: () => app.handle.rssMb(),
      log,
    });
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(path.join(RESULTS, 'soak.json'), `${JSON.stringify({ date: new Date().toISOString(), machine: machine(db), ...report }, null, 2)}\n`);
    writeFileSync(path.join(RESULTS, 'soak.md'), `${soakTable(report)}\n`);
    console.log(`\n${soakTable(report)}\n`);
    log('wrote bench/results/soak.json and soak.md');
    // A soak fails only when the app failed requests or died; a rising trend is reported, not judged here.
    return report.failures > 0 || app.handle.exited ? 1 : 0;
  }
  if (options.metrics && app) {
    log(`metrics on in the app, scraped every ${METRICS_SCRAPE_MS / 1000} s`);
    const scraper = setInterval(() => void scrape(app.handle.baseUrl, metricsToken).catch((error) => log(`metrics scrape: ${(error as Error).message}`)), METRICS_SCRAPE_MS);
    lifecycle.add(async () => clearInterval(scraper));
  }
  /** Problems that make the numbers meaningless (fail every run) vs. findings (fail only the smoke run). */
  const problems: string[] = [];
  const fatal: string[] = [];
  if (app && baseline) {
    const contract = await checkContract(app.handle.baseUrl, baseline.handle.baseUrl, ctx);
    for (const problem of contract) log(`contract: ${problem}`);
    if (contract.length === 0) log('contract check: app and baseline agree on every probe');
    problems.push(...contract.map((problem) => `contract: ${problem}`));
  }

  const outcomes: ScenarioOutcome[] = [];
  for (const scenario of scenarios) {
    const outcome = await measure(scenario, servers, ctx, options, monitor);
    outcomes.push(outcome);
    for (const server of servers) {
      const summary = outcome.summary[server.target]!;
      const detail = outcome.detail[server.target]!;
      const where = `${scenario.name} c=${scenario.concurrency} on ${server.target}`;
      if (outcome.runs[server.target]!.every((result) => result.ok === 0)) fatal.push(`${where}: no 2xx response at all`);
      if (summary.errors > 0) problems.push(`${where}: ${detail.non2xx} non-2xx (${JSON.stringify(detail.statusCodes)}), ${detail.socketErrors} socket errors/timeouts`);
      if (!(summary.statementsPerRequest > 0)) fatal.push(`${where}: no statements counted (is the counter preloaded?)`);
    }
    // Writes would otherwise grow the dataset scenario after scenario (a POST run adds far more posts
    // than the seed holds): remove the benchmark's own posts, then refresh statistics.
    if (scenario.writes) await restore(db.url, lastSeededPostId);
  }

  console.log(`\n${table(outcomes)}\n`);
  const scenariosJson = outcomes.map(({ scenario, summary, ratio }) => ({
    name: scenario.name,
    concurrency: scenario.concurrency,
    app: summary.app ?? null,
    baseline: summary.baseline ?? null,
    ratio: ratio ? { median: ratio.median, min: ratio.min, max: ratio.max } : null,
  }));
  mkdirSync(RESULTS, { recursive: true });
  // A partial run (one server, some scenarios) never overwrites the full results.
  const base = options.smoke ? 'smoke' : options.only || options.filter || Object.keys(options.appEnv).length > 0 ? 'partial' : options.metrics ? 'latest-metrics' : 'latest';
  writeFileSync(path.join(RESULTS, `${base}.json`), `${JSON.stringify({ scenarios: scenariosJson }, null, 2)}\n`);
  writeFileSync(
    path.join(RESULTS, `${base}-detail.json`),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: machine(db),
        options,
        dataset: { users: userIds.length, posts: options.posts, published, sessionUsers: sessions.length, sessionAdmins: admins },
        searchPlans: plans,
        problems: [...fatal, ...problems],
        scenarios: outcomes.map(({ scenario, summary, detail, ratio }) => ({ name: scenario.name, concurrency: scenario.concurrency, summary, detail, ratio })),
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(path.join(RESULTS, `${base}.md`), `${table(outcomes)}\n`);
  log(`wrote bench/results/${base}.json, ${base}-detail.json and ${base}.md in ${((Date.now() - started) / 1000).toFixed(0)} s`);

  const all = [...fatal, ...problems];
  if (all.length > 0) {
    log(`${all.length} problem(s):`);
    for (const problem of all) log(`  - ${problem}`);
  }
  // Speed never fails a run. A broken harness always does; failed requests and contract differences
  // fail the smoke run (the full run reports them in the table and the detail file).
  return fatal.length > 0 || (options.smoke && problems.length > 0) ? 1 : 0;
}

lifecycle.run(main);
