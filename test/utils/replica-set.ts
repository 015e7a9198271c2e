/**
 * A PostgreSQL primary and one streaming replica for the replica tests, built from the machine's own PostgreSQL
 * binaries (Debian's: /usr/lib/postgresql/<version>/bin, or PG_BINDIR) on ports of their own: initdb, then
 * pg_basebackup -R from the running primary, as a deployment builds a standby. Both log every statement with its
 * application name, so a test can tell which server ran what. As root, the servers run as `nobody`.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, chown, mkdir, readFile, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { Client } from 'pg';
import { freePort } from './app-process';
import { makeTempDir } from './temp-cluster';

const NOBODY = 65534;
const runAs = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};

/** The newest PostgreSQL on the machine that has what a standby needs. */
function binDir(): string {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => path.join(root, v, 'bin')).find((dir) => ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'].every((tool) => existsSync(path.join(dir, tool))));
  if (!found) throw new Error('No PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) under /usr/lib/postgresql: apt-get install postgresql, or set PG_BINDIR');
  return found;
}

function run(tool: string, args: string[], timeout = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path.join(binDir(), tool), args, { ...runAs, timeout, env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, cwd: '/' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${tool} ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function ownedDir(dir: string): Promise<string> {
  await mkdir(dir, { mode: 0o700 });
  if (runAs.uid !== undefined) await chown(dir, runAs.uid, runAs.gid!);
  return dir;
}

/** One server of the set: its data directory, port and statement log. */
class Server {
  constructor(
    readonly dataDir: string,
    readonly port: number,
    readonly logFile: string,
  ) {}

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    await run('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '60', 'start']);
  }

  async stop(): Promise<void> {
    await run('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
  }

  /**
   * Statements `application` sent since `offset` (a byte offset of the log, from `logSize`), each with its bound
   * parameters after it (`parameters: $1 = …`) and its lines joined.
   */
  async statements(application: string, offset: number): Promise<string[]> {
    const entries: string[] = [];
    for (const line of (await readFile(this.logFile)).subarray(offset).toString().split('\n')) {
      if (/^[^|\s]*\|[A-Z]+:/.test(line)) entries.push(line);
      else if (entries.length > 0) entries[entries.length - 1] += `\n${line}`;
    }
    const statements: string[] = [];
    // The file ends in a newline, which would otherwise cling to the last entry.
    for (const entry of entries.map((text) => text.trimEnd())) {
      if (!entry.startsWith(`${application}|`)) continue;
      const statement = /^[^|]*\|LOG:\s+(?:statement|execute [^:]*):\s*([\s\S]*)$/.exec(entry);
      if (statement) statements.push(statement[1]);
      else if (statements.length > 0 && /^[^|]*\|DETAIL:\s+parameters:/.test(entry)) statements[statements.length - 1] += ` -- ${entry}`;
    }
    return statements;
  }

  async logSize(): Promise<number> {
    return (await readFile(this.logFile)).length;
  }

  async query<T extends object>(sql: string, database = 'postgres'): Promise<T[]> {
    const client = new Client({ connectionString: this.url(database) });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  }
}

export class ReplicaSet {
  private constructor(
    private readonly dir: string,
    readonly primary: Server,
    readonly replica: Server,
  ) {}

  static async start(label: string): Promise<ReplicaSet> {
    const dir = await makeTempDir(label);
    if (runAs.uid !== undefined) await chown(dir, runAs.uid, runAs.gid!);
    const primary = new Server(await ownedDir(path.join(dir, 'primary')), await freePort(), path.join(dir, 'primary.log'));
    await run('initdb', ['-D', primary.dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    // Test speed (no fsync), a standby's needs (WAL for replication; initdb's pg_hba already trusts local replication),
    // and every statement in the log under its application name.
    await appendFile(
      path.join(primary.dataDir, 'postgresql.conf'),
      [
        `port = ${primary.port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'full_page_writes = off',
        'wal_level = replica',
        'max_wal_senders = 4',
        'hot_standby = on',
        "log_statement = 'all'",
        // No WAL but the tests' own: lag the tests inject is then measured from their own writes.
        'autovacuum = off',
        "checkpoint_timeout = '1h'",
        "log_line_prefix = '%a|'",
        '',
      ].join('\n'),
    );
    await primary.start();
    const replica = new Server(await ownedDir(path.join(dir, 'replica')), await freePort(), path.join(dir, 'replica.log'));
    await run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', replica.dataDir, '-R', '-X', 'stream', '--no-sync']);
    await appendFile(path.join(replica.dataDir, 'postgresql.auto.conf'), `port = ${replica.port}\n`);
    await replica.start();
    const set = new ReplicaSet(dir, primary, replica);
    await set.caughtUp();
    return set;
  }

  /** Waits until the replica has replayed everything the primary has written so far. */
  async caughtUp(timeoutMs = 30_000): Promise<void> {
    const [{ lsn }] = await this.primary.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [row] = await this.replica.query<{ behind: boolean }>(`SELECT pg_last_wal_replay_lsn() < '${lsn}'::pg_lsn AS behind`).catch(() => [{ behind: true }]);
      if (!row.behind) return;
      if (Date.now() > deadline) throw new Error(`the replica did not reach ${lsn} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Replication lag on demand: the replica keeps receiving WAL but applies none of it until resumed. */
  async pauseReplay(): Promise<void> {
    await this.replica.query('SELECT pg_wal_replay_pause()');
  }

  async resumeReplay(): Promise<void> {
    await this.replica.query('SELECT pg_wal_replay_resume()');
  }

  async destroy(): Promise<void> {
    await Promise.allSettled([this.replica.stop(), this.primary.stop()]);
    await rm(this.dir, { recursive: true, force: true });
  }
}
