/**
 * Runs the real entry point (src/main.ts compiled by swc, as `npm run build` does) as a child process,
 * for tests of what only a whole process shows: boot, configuration errors, signals, crashes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const BUILD_DIR = path.join(ROOT, '.test-build');
let built = false;

function buildOnce(): string {
  if (!built) {
    execFileSync(process.execPath, [require.resolve('@swc/cli/bin/swc.js'), 'src', '-d', BUILD_DIR, '--strip-leading-paths', '--ignore', '**/*.spec.ts'], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    built = true;
  }
  return path.join(BUILD_DIR, 'main.js');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const TEST_JWT_SECRET = randomBytes(48).toString('base64');

export class AppProcess {
  private output = '';
  private readonly exited: Promise<ExitResult>;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /**
   * Spawns the app with `env` on a clean base: nothing of the test worker's own configuration leaks in. It logs at
   * `info`, the app's default, so a test sees what an operator would (the start-up banner among it); an empty value
   * means unset, as for the app (`LOG_LEVEL: ''` gives the app's own default).
   */
  static spawn(env: Record<string, string>, port: number): AppProcess {
    const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: process.env.TMPDIR ?? '' };
    const child = spawn(process.execPath, [buildOnce()], {
      cwd: ROOT,
      // Production needs a signing secret; this one exists only for the child's lifetime.
      env: { ...base, NODE_ENV: 'production', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: String(port), JWT_SECRET: TEST_JWT_SECRET, RATE_LIMIT: 'off', SHUTDOWN_GRACE_MS: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AppProcess(child, port);
  }

  /** Spawns the app and resolves once it serves HTTP. */
  static async start(env: Record<string, string>): Promise<AppProcess> {
    const app = AppProcess.spawn(env, await freePort());
    await app.waitForHttp(60_000);
    return app;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get logs(): string {
    return this.output;
  }

  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (this.child.exitCode !== null) throw new Error(`App exited (${this.child.exitCode}) before ${pattern}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${pattern}:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Resolves once `GET /health` answers, whatever its status: the server listens. Not a log line, which depends on
   * LOG_LEVEL and on the log format.
   */
  async waitForHttp(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`App exited (${this.child.exitCode}) before serving HTTP:\n${this.output}`);
      const answered = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(2_000) }).then(
        async (response) => (await response.arrayBuffer(), true),
        () => false,
      );
      // Alive too: an answer from a process that took the port first is no answer from this one.
      if (answered && this.child.exitCode === null) return;
      if (Date.now() > deadline) throw new Error(`Timed out waiting for GET /health to answer:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  waitForExit(timeoutMs = 30_000): Promise<ExitResult> {
    return Promise.race([
      this.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`App did not exit in ${timeoutMs} ms:\n${this.output}`)), timeoutMs).unref()),
    ]);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
