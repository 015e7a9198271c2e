/**
 * Debian's HAProxy in front of app instances, for the scale-out tests and the scaling run: one frontend on a port of
 * its own, round robin over the instances, each health-checked on /health/ready, and the runtime API on a Unix socket
 * to read each server's state and counters. The binary is installed by scripts/ensure-haproxy.sh.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './app-process';

const HAPROXY = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].find((candidate) => existsSync(candidate)) ?? 'haproxy';
const BACKEND = 'app';
/** How often each instance's readiness is checked, by default. */
export const CHECK_INTERVAL_MS = 250;
/** Failed checks in a row that take an instance out of rotation. */
export const CHECK_FALL = 2;
/**
 * A check's own time limit: above the readiness probe's database bound (HEALTH_DB_TIMEOUT_MS, 1 s), so that a check
 * slowed by load is not read as a failure. Without it HAProxy gives a check only `inter` to answer.
 */
const CHECK_TIMEOUT_MS = 2_000;

export interface BalancerOptions {
  /** The instances' ports on 127.0.0.1, named app1, app2, … in this order. */
  ports: number[];
  /** How often each instance's readiness is checked; CHECK_FALL failed checks take it out, two passed put it back. */
  checkIntervalMs?: number;
}

export interface ServerState {
  name: string;
  /** HAProxy's verdict: UP, DOWN, MAINT, or a transition such as "UP 1/2". */
  status: string;
  /** Requests (sessions) sent to this server so far. */
  sessions: number;
  /** 5xx responses from this server, as HAProxy counted them. */
  http5xx: number;
  /** Requests HAProxy had to send again (a connection refused or failed), and those it sent to another server. */
  retries: number;
  redispatches: number;
  /** Connections to this server that failed. */
  connectionErrors: number;
  /** Times its health checks took it out of rotation. */
  checkDowns: number;
}

export class LoadBalancer {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  static async start(options: BalancerOptions): Promise<LoadBalancer> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'haproxy-'));
    const port = await freePort();
    const inter = options.checkIntervalMs ?? CHECK_INTERVAL_MS;
    const config = [
      'global',
      `  stats socket ${path.join(dir, 'admin.sock')} mode 600 level admin`,
      '  maxconn 4096',
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 30s',
      '  timeout server 30s',
      `  timeout check ${CHECK_TIMEOUT_MS}ms`,
      // A connection an instance refuses (it has just closed its listener) is retried on another instance: the
      // request never reached the first one, so this is safe for a POST too. Nothing else is retried.
      '  retries 3',
      '  option redispatch 1',
      // The client's address for the app's rate limits and logs (TRUST_PROXY).
      '  option forwardfor',
      'frontend api',
      `  bind 127.0.0.1:${port}`,
      `  default_backend ${BACKEND}`,
      `backend ${BACKEND}`,
      '  balance roundrobin',
      '  option httpchk GET /health/ready',
      '  http-check expect status 200',
      `  default-server inter ${inter} fastinter ${inter} downinter ${inter} fall ${CHECK_FALL} rise 2`,
      ...options.ports.map((serverPort, i) => `  server app${i + 1} 127.0.0.1:${serverPort} check`),
      '',
    ].join('\n');
    const file = path.join(dir, 'haproxy.cfg');
    writeFileSync(file, config);
    // -db: stay in the foreground, so that the process is this child and dies with it.
    const child = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const balancer = new LoadBalancer(child, dir, port);
    try {
      await balancer.waitFor(() => true, 10_000, 'the runtime API to answer');
    } catch (error) {
      await balancer.stop();
      throw error;
    }
    return balancer;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get logs(): string {
    return this.output;
  }

  /** One runtime API command, answered in full (the socket closes after it). */
  private command(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path.join(this.dir, 'admin.sock'));
      let answer = '';
      socket.setTimeout(2_000, () => socket.destroy(new Error(`HAProxy did not answer \`${line}\``)));
      socket.on('connect', () => socket.write(`${line}\n`));
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });
  }

  /** The backend's servers, from `show stat` (CSV, columns found by name). */
  async servers(): Promise<ServerState[]> {
    const lines = (await this.command('show stat')).split('\n').filter(Boolean);
    const header = lines[0].replace(/^# /, '').split(',');
    const column = (name: string) => header.indexOf(name);
    return lines
      .slice(1)
      .map((line) => line.split(','))
      .filter((cells) => cells[column('pxname')] === BACKEND && !['BACKEND', 'FRONTEND'].includes(cells[column('svname')]))
      .map((cells) => ({
        name: cells[column('svname')],
        status: cells[column('status')],
        sessions: Number(cells[column('stot')]),
        http5xx: Number(cells[column('hrsp_5xx')]),
        retries: Number(cells[column('wretr')]),
        redispatches: Number(cells[column('wredis')]),
        connectionErrors: Number(cells[column('econ')]),
        checkDowns: Number(cells[column('chkdown')]),
      }));
  }

  /** Resolves once `condition` holds for the servers' states; throws with them after `timeoutMs`. */
  async waitFor(condition: (servers: ServerState[]) => boolean, timeoutMs: number, what: string): Promise<ServerState[]> {
    const deadline = Date.now() + timeoutMs;
    let last: ServerState[] | string = 'no answer';
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`HAProxy exited (${this.child.exitCode}):\n${this.output}`);
      try {
        const servers = await this.servers();
        if (condition(servers)) return servers;
        last = servers;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Resolves once every server is UP. */
  allUp(timeoutMs = 60_000): Promise<ServerState[]> {
    return this.waitFor((servers) => servers.length > 0 && servers.every((server) => server.status === 'UP'), timeoutMs, 'every instance UP');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      this.child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
