/**
 * A TCP proxy between the app and PostgreSQL that injects network faults, for the fault tests:
 * - pass: bytes flow both ways (optionally each chunk `delay`ed, order kept);
 * - blackhole: connections stay open (new ones are accepted) but nothing flows either way, as across a network
 *   that silently drops packets; what was sent meanwhile arrives when it passes again, as TCP would retransmit it;
 * - cutAll: every open connection is closed at once (the server restarted, a firewall reset);
 * - refuse: nothing listens on the port any more (connection refused), as when the database is stopped.
 */
import { createServer, type Server, Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
}

export class FaultProxy {
  private server?: Server;
  private readonly pairs = new Set<Pair>();
  private held = false;
  private delayMs = 0;

  private constructor(
    private readonly target: { host: string; port: number },
    public port: number,
  ) {}

  /** Listens on a free port of 127.0.0.1 and forwards to `target` (a postgres:// URL or host and port). */
  static async start(targetUrl: string): Promise<FaultProxy> {
    const url = new URL(targetUrl);
    const proxy = new FaultProxy({ host: url.hostname, port: Number(url.port || 5432) }, 0);
    await proxy.listen();
    return proxy;
  }

  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string {
    const proxied = new URL(url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(this.port);
    return proxied.toString();
  }

  get connections(): number {
    return this.pairs.size;
  }

  /** Connections accepted since the proxy started. */
  accepted = 0;

  /** Back to normal: listening, forwarding, no delay; what a blackhole held is delivered. */
  async pass(): Promise<void> {
    this.delayMs = 0;
    this.held = false;
    for (const pair of this.pairs) {
      pair.client.resume();
      pair.upstream.resume();
    }
    if (!this.server) await this.listen();
  }

  blackhole(): void {
    this.held = true;
    for (const pair of this.pairs) {
      pair.client.pause();
      pair.upstream.pause();
    }
  }

  delay(ms: number): void {
    this.delayMs = ms;
  }

  cutAll(): void {
    for (const pair of this.pairs) this.drop(pair);
  }

  /** Stops listening (new connections are refused) and cuts the open ones: a stopped database. */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.cutAll();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async close(): Promise<void> {
    await this.refuse();
  }

  private async listen(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  private accept(client: Socket): void {
    this.accepted += 1;
    const upstream = new Socket();
    const pair = { client, upstream };
    this.pairs.add(pair);
    if (this.held) {
      client.pause();
      upstream.pause();
    }
    this.forward(client, upstream);
    this.forward(upstream, client);
    for (const socket of [client, upstream]) {
      socket.on('error', () => this.drop(pair));
      socket.on('close', () => this.drop(pair));
    }
    upstream.connect(this.target.port, this.target.host);
  }

  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (this.delayMs > 0) setTimeout(() => to.writable && to.write(chunk), this.delayMs);
      else if (to.writable) to.write(chunk);
    });
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream.destroy();
  }
}
