/**
 * Child-process servers for the benchmark: started with the statement counter preloaded, polled for
 * readiness, sampled for memory, and always killed — on stop(), on harness exit, or on a signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const COUNTER = path.resolve(__dirname, '..', 'pg-statement-counter.cjs');
const live = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface StartOptions {
  name: string;
  script: string;
  cwd: string;
  port: number;
  env: Record<string, string>;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  /** Preload the statement counter (pg-statement-counter.cjs); off, the process runs exactly as in production. */
  countStatements?: boolean;
}

export class ServerHandle {
  private readonly output: string[] = [];
  private exitInfo: string | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (count: number) => void>();
  private sampler: NodeJS.Timeout | undefined;
  private sampledPeakKb = 0;
  private hwmReset = false;

  private constructor(
    readonly name: string,
    readonly baseUrl: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.output.push(line);
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (message: { type?: string; id?: number; statements?: number }) => {
      if (message?.type !== 'bench:statements' || message.id === undefined) return;
      this.pending.get(message.id)?.(message.statements ?? 0);
      this.pending.delete(message.id);
    });
    child.on('exit', (code, signal) => {
      this.exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
      live.delete(child);
      this.stopSampling();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get exited(): string | undefined {
    return this.exitInfo;
  }

  tail(lines = 30): string {
    return this.output.slice(-lines).join('\n');
  }

  static async start(options: StartOptions): Promise<ServerHandle> {
    const preload = options.countStatements === false ? [] : ['--require', COUNTER];
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...preload, options.script], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env, PORT: String(options.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    live.add(child);
    const handle = new ServerHandle(options.name, `http://127.0.0.1:${options.port}`, child);
    try {
      await handle.waitReady(options.readyTimeoutMs ?? 60_000);
    } catch (error) {
      await handle.stop();
      throw new Error(`${options.name} did not start: ${(error as Error).message}\n--- last output of ${options.name} ---\n${handle.tail()}`);
    }
    return handle;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (this.exitInfo) throw new Error(`process ${this.exitInfo}`);
      try {
        const response = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(2000) });
        await response.arrayBuffer();
        if (response.ok) return;
        last = `GET /health answered ${response.status}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`not ready within ${timeoutMs / 1000} s (${last})`);
  }

  /** Statements sent to PostgreSQL by this process so far (see pg-statement-counter.cjs). */
  statements(): Promise<number> {
    if (this.exitInfo) return Promise.reject(new Error(`${this.name} ${this.exitInfo}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name} did not report its statement count`));
      }, 5000);
      this.pending.set(id, (count) => {
        clearTimeout(timer);
        resolve(count);
      });
      this.child.send({ type: 'bench:statements', id });
    });
  }

  private status(field: 'VmRSS' | 'VmHWM'): number | undefined {
    try {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return match ? Number(match[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Starts a fresh peak-RSS window: resets the kernel's high-water mark (VmHWM) where allowed, and
   * also samples VmRSS every 50 ms as a fallback (the sampler can miss a short spike, VmHWM cannot).
   */
  startPeakWindow(): void {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      this.hwmReset = true;
    } catch {
      this.hwmReset = false;
    }
    this.sampledPeakKb = this.status('VmRSS') ?? 0;
    this.stopSampling();
    this.sampler = setInterval(() => {
      this.sampledPeakKb = Math.max(this.sampledPeakKb, this.status('VmRSS') ?? 0);
    }, 50);
    this.sampler.unref();
  }

  /** Resident memory in MB now. */
  rssMb(): number {
    return (this.status('VmRSS') ?? 0) / 1024;
  }

  /** Peak resident memory in MB since startPeakWindow(). */
  peakRssMb(): number {
    const hwm = this.hwmReset ? (this.status('VmHWM') ?? 0) : 0;
    return Math.max(hwm, this.sampledPeakKb, this.status('VmRSS') ?? 0) / 1024;
  }

  private stopSampling(): void {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = undefined;
  }

  /** Asks for a plain exit over IPC (so CPU profiles get written), then SIGTERM, then SIGKILL. */
  async stop(): Promise<void> {
    this.stopSampling();
    if (this.exitInfo || this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      this.child.send({ type: 'bench:exit' });
    } catch {
      this.child.kill('SIGTERM');
    }
    const term = setTimeout(() => this.child.kill('SIGTERM'), 10_000);
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(term);
    clearTimeout(kill);
  }
}
