import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EmbeddedPostgres } from '../../src/database/embedded/embedded-postgres';
import { freePort } from './app-process';

/** A private directory under the OS temp directory that the server's user (nobody, when run as root) can enter. */
export async function makeTempDir(label: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `nsvc-${label}-`));
  await chmod(dir, 0o755);
  return dir;
}

/** A throwaway PostgreSQL cluster with test-speed settings; `destroy()` stops it and deletes its files. */
export class TempCluster {
  private constructor(
    private readonly dir: string,
    public server: EmbeddedPostgres,
  ) {}

  static async start(label: string): Promise<TempCluster> {
    const dir = await makeTempDir(label);
    const server = await EmbeddedPostgres.start({ dataDir: path.join(dir, 'data'), port: await freePort(), fast: true });
    return new TempCluster(dir, server);
  }

  /** Starts the same cluster again after a `server.stop()`. */
  async restart(): Promise<void> {
    this.server = await EmbeddedPostgres.start({ dataDir: this.server.dataDir, port: this.server.port, fast: true });
  }

  async destroy(): Promise<void> {
    try {
      await this.server.stop();
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}
