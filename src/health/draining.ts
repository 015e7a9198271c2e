/**
 * Whether this instance is on its way out, for the readiness probe and for every response, and the first step of
 * stopping its HTTP server.
 *
 * - draining (main.ts calls `start()` on SIGTERM/SIGINT): readiness answers 503 so that a load balancer stops sending,
 *   while every other route keeps serving; responses carry `Connection: close` so keep-alive clients reconnect
 *   (elsewhere, once deregistered) instead of holding on to this instance.
 * - `closeServer()` (main.ts, after the grace period, before `app.close()`): the listener stops accepting, idle
 *   connections are closed, and it resolves once the in-flight requests have been answered (each answer closes its
 *   connection). Done here rather than left to `app.close()`, whose Fastify would answer a request still arriving on
 *   an open connection with its own 503 (`return503OnClosing`: another body, no Retry-After); when `app.close()`
 *   runs after this, no connection is left for that.
 *
 * One per application (an injectable, not module state), so that apps of one test process do not share it.
 */
import type { Server } from 'node:http';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';

@Injectable()
export class Draining implements OnModuleInit {
  private draining = false;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** Readiness answers 503 from now on; the rest of the API keeps serving. Idempotent. */
  start(): void {
    this.draining = true;
  }

  get active(): boolean {
    return this.draining;
  }

  /** Stops accepting connections; resolves once every open one has ended (in-flight requests answered). */
  async closeServer(): Promise<void> {
    this.start();
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Node's close() does this too (since 19); said here because it is what lets `closed` settle: a keep-alive
    // connection with no request in progress would otherwise stay open until its timeout.
    server.closeIdleConnections();
    await closed;
  }

  onModuleInit(): void {
    const instance = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    // Without an HTTP server (e.g. a standalone context) there is nothing to hook.
    if (!instance?.addHook) return;
    instance.addHook('onSend', (request, reply, payload, done) => {
      // HTTP/2 has no Connection header (and forbids it).
      if (this.draining && request.raw.httpVersionMajor === 1) void reply.header('connection', 'close');
      done(null, payload);
    });
  }
}
