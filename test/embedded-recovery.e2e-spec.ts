/**
 * The embedded PostgreSQL after a crash or an overlapping restart (issue 13): every state a killed app, a killed
 * server or `nest start --watch` can leave behind, reproduced with real processes; the next start must serve, and
 * a clean stop must leave no server process on the data directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, cp, rm, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { serverProcesses } from '../src/database/embedded/embedded-postgres';
import { withAdmin } from './setup/test-databases';
import { AppProcess, freePort } from './utils/app-process';
import { makeTempDir, TempCluster } from './utils/temp-cluster';

const ROOT = path.resolve(__dirname, '..');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, output?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${output ? `:\n${output()}` : ''}`);
    await sleep(100);
  }
}

const healthStatus = (port: number): Promise<number> =>
  fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) }).then(
    async (response) => (await response.arrayBuffer(), response.status),
    () => 0,
  );

const query = <T extends Record<string, unknown>>(url: string, sql: string): Promise<T[]> => withAdmin(url, async (client) => (await client.query<T>(sql)).rows);

/** Alive, not a zombie: an exited server's processes wait for PID 1 to reap them, which here can take a while. */
const isRunning = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

describe('the embedded PostgreSQL recovers from what a crash or an overlapping restart leaves behind', () => {
  let parent: string;
  let dataDir: string;
  let env: Record<string, string>;
  let appDatabaseUrl: string;
  const spawned: ChildProcess[] = [];

  beforeEach(async () => {
    parent = await makeTempDir('embedded-recovery');
    dataDir = path.join(parent, 'pg');
    const pgPort = await freePort();
    env = { EMBEDDED_PG_DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort) };
    appDatabaseUrl = `postgres://postgres@127.0.0.1:${pgPort}/app`;
  });

  afterEach(async () => {
    // A failed test must not leave processes on the machine: only what this test started, and servers of its own directory.
    for (const child of spawned.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const server of serverProcesses(dataDir)) process.kill(server.pid, 'SIGKILL');
    await rm(parent, { recursive: true, force: true });
  });

  const startApp = async () => {
    const app = await AppProcess.start(env);
    spawned.push(app.child);
    return app;
  };

  const spawnApp = async () => {
    const app = AppProcess.spawn(env, await freePort());
    spawned.push(app.child);
    return app;
  };

  /** The running server as the detector sees it: the postmaster PostgreSQL recorded, and the processes it forked. */
  const runningPostmaster = (): number => {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const processes = serverProcesses(dataDir);
    expect(processes.filter((server) => server.postmaster).map((server) => server.pid)).toEqual([pid]);
    expect(processes.filter((server) => server.ppid === pid).length).toBeGreaterThan(0);
    return pid;
  };

  const expectNothingLeft = () => {
    expect(serverProcesses(dataDir)).toEqual([]);
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
    expect(existsSync(path.join(dataDir, 'owner.pid'))).toBe(false);
  };

  const stopCleanly = async (app: AppProcess) => {
    app.kill('SIGTERM');
    expect(await app.waitForExit()).toEqual({ code: 0, signal: null });
    expectNothingLeft();
  };

  it('app killed with SIGKILL and postmaster.pid deleted while the server runs on: stops that server (only that one), then starts', async () => {
    const bystander = await TempCluster.start('bystander');
    try {
      const bystanderProcesses = serverProcesses(bystander.server.dataDir).map((server) => server.pid).sort();
      expect(bystanderProcesses.length).toBeGreaterThan(1);

      const crashed = await startApp();
      await query(appDatabaseUrl, `CREATE TABLE kept AS SELECT 'survives' AS value`);
      const orphan = runningPostmaster();
      crashed.kill('SIGKILL');
      await crashed.waitForExit();
      await rm(path.join(dataDir, 'postmaster.pid'));
      // The state `nest start --watch` used to leave: a live server nobody knows of, which the next one collided with
      // ("pre-existing shared memory block is still in use").
      expect(serverProcesses(dataDir).map((server) => server.pid)).toContain(orphan);

      const recovered = await startApp();
      expect(recovered.logs).toMatch(/Stopping an orphaned PostgreSQL/);
      expect(await healthStatus(recovered.port)).toBe(200);
      expect(isRunning(orphan)).toBe(false);
      expect(runningPostmaster()).not.toBe(orphan);
      expect(await query(appDatabaseUrl, 'SELECT value FROM kept')).toEqual([{ value: 'survives' }]);

      // The server of another data directory was not touched.
      expect(serverProcesses(bystander.server.dataDir).map((server) => server.pid).sort()).toEqual(bystanderProcesses);
      expect(await query(bystander.server.url(), 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);

      await stopCleanly(recovered);
    } finally {
      await bystander.destroy();
    }
  });

  it('postmaster killed with SIGKILL and its pid since reused by an unrelated process: removes the stale postmaster.pid, touches that process not', async () => {
    const crashed = await startApp();
    const postmaster = runningPostmaster();
    crashed.kill('SIGKILL');
    await crashed.waitForExit();
    process.kill(postmaster, 'SIGKILL');
    // Its forked processes notice and exit by themselves; postmaster.pid and owner.pid stay.
    await waitFor('the killed server to be gone', () => serverProcesses(dataDir).length === 0, 10_000);
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(true);

    const unrelated = spawn('sleep', ['600'], { stdio: 'ignore' });
    spawned.push(unrelated);
    const lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    await writeFile(path.join(dataDir, 'postmaster.pid'), [String(unrelated.pid), ...lines.slice(1)].join('\n'));

    const recovered = await startApp();
    expect(recovered.logs).toMatch(/stale postmaster\.pid/);
    expect(await healthStatus(recovered.port)).toBe(200);
    expect(unrelated.exitCode).toBeNull();
    expect(unrelated.signalCode).toBeNull();
    expect(isRunning(unrelated.pid!)).toBe(true);
    await stopCleanly(recovered);
  });

  it('a second start waits for the live owner to stop its server (the watch-mode overlap), and a signal ends that wait', async () => {
    const first = await startApp();
    await query(appDatabaseUrl, `CREATE TABLE kept AS SELECT 'survives' AS value`);
    const firstPostmaster = runningPostmaster();

    const interrupted = await spawnApp();
    await interrupted.waitForOutput(/waiting for it to stop/, 30_000);
    const signalled = Date.now();
    interrupted.kill('SIGTERM');
    const exit = await interrupted.waitForExit();
    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(exit).toEqual({ code: 1, signal: null });
    expect(runningPostmaster()).toBe(firstPostmaster);

    const second = await spawnApp();
    await second.waitForOutput(/waiting for it to stop/, 30_000);
    await sleep(500);
    // Still waiting: the first app and its server are untouched, the second serves nothing yet.
    expect(await healthStatus(first.port)).toBe(200);
    expect(await healthStatus(second.port)).toBe(0);
    expect(runningPostmaster()).toBe(firstPostmaster);

    first.kill('SIGTERM');
    expect(await first.waitForExit()).toEqual({ code: 0, signal: null });
    await second.waitForHttp(60_000);
    expect(await healthStatus(second.port)).toBe(200);
    expect(runningPostmaster()).not.toBe(firstPostmaster);
    expect(await query(appDatabaseUrl, 'SELECT value FROM kept')).toEqual([{ value: 'survives' }]);
    await stopCleanly(second);
  });

  it('a signal that comes twice (Ctrl-C to the process group, passed on by the CLI) still stops PostgreSQL before exiting 0', async () => {
    const app = await startApp();
    runningPostmaster();
    app.kill('SIGINT');
    await sleep(50);
    app.kill('SIGINT');
    expect(await app.waitForExit()).toEqual({ code: 0, signal: null });
    expectNothingLeft();
  });

  it('`nest start --watch`: each restart stops the old server before the new one starts; Ctrl-C leaves nothing running', async () => {
    // A copy of the project, so that the test edits no tracked file (the CLI compiles it into the copy's dist/).
    const project = path.join(parent, 'project');
    for (const entry of ['src', 'nest-cli.json', 'tsconfig.json', 'tsconfig.build.json', '.swcrc', 'package.json']) {
      await cp(path.join(ROOT, entry), path.join(project, entry), { recursive: true });
    }
    for (const entry of ['node_modules', 'migrations']) await symlink(path.join(ROOT, entry), path.join(project, entry));

    const port = await freePort();
    let output = '';
    // Detached: a process group of its own, which the test signals as a terminal's Ctrl-C would.
    const cli = spawn(process.execPath, [path.join(ROOT, 'node_modules/@nestjs/cli/bin/nest.js'), 'start', '--watch'], {
      cwd: project,
      detached: true,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(port), RATE_LIMIT: 'off', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    spawned.push(cli);
    const cliExit = new Promise((resolve) => cli.on('exit', resolve));
    cli.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    cli.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const logs = () => output;
    const postmasterPid = () => Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

    try {
      await waitFor('the app to serve', async () => (await healthStatus(port)) === 200, 90_000, logs);
      const first = runningPostmaster();

      // Two changes in quick succession: the second restart lands while the first one's app is still starting.
      const source = path.join(project, 'src', 'health', 'health.controller.ts');
      await appendFile(source, '\n// restart 1\n');
      await sleep(300);
      await appendFile(source, '// restart 2\n');
      await waitFor(
        'a new server after the restarts',
        async () => existsSync(path.join(dataDir, 'postmaster.pid')) && postmasterPid() !== first && (await healthStatus(port)) === 200,
        90_000,
        logs,
      );
      // Settled: one server, the one postmaster.pid names, owned by a live app; the first server is gone.
      await sleep(3_000);
      expect(await healthStatus(port)).toBe(200);
      expect(runningPostmaster()).not.toBe(first);
      expect(isRunning(first)).toBe(false);
      expect(isRunning(Number(readFileSync(path.join(dataDir, 'owner.pid'), 'utf8').split('\n')[0]))).toBe(true);
      expect(logs()).not.toMatch(/pre-existing shared memory|lock file .* already exists|did not start/);

      process.kill(-cli.pid!, 'SIGINT');
      await cliExit;
      // The CLI may exit before its app has finished stopping (with its default shell, only the shell is waited for).
      await waitFor('the server to stop', () => serverProcesses(dataDir).length === 0 && !existsSync(path.join(dataDir, 'owner.pid')), 30_000, logs);
      expectNothingLeft();
      expect(await healthStatus(port)).toBe(0);
    } finally {
      if (cli.exitCode === null && cli.signalCode === null) process.kill(-cli.pid!, 'SIGKILL');
    }
  }, 240_000);
});
