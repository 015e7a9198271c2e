import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type Environment, validateEnvironment } from './config/environment';
import { EMBEDDED_APP_DATABASE, type EmbeddedPostgres, startAppDatabase } from './database/embedded/embedded-postgres';
import type { Draining } from './health/draining';
import { startTracing, type Tracing } from './observability/tracing';

interface Running {
  app?: NestFastifyApplication;
  embedded?: EmbeddedPostgres;
  /** Readiness and keep-alive while shutting down (see health/draining.ts). */
  draining?: Draining;
  /** Set once the server accepts connections: only then can a load balancer have been sending traffic here. */
  listening?: boolean;
  /** Started before the app is loaded (it patches http and pg as they load); flushed last on stop. */
  tracing?: Tracing;
  /** Set once the app's logger is in place (configureApp): from then on this file logs through it. */
  logger?: Logger;
}

const running: Running = {};

/**
 * This file's own messages: entries of the app's logger once it exists (JSON in production, so every line of the
 * output parses), plain stdout/stderr before it, e.g. for an invalid environment.
 */
function report(level: 'log' | 'error', message: string): void {
  if (running.logger) running.logger[level](message);
  else if (level === 'error') console.error(message);
  else console.log(message);
}

async function start(environment: Environment): Promise<void> {
  if (!environment.DATABASE_URL) {
    running.embedded = await startAppDatabase({ dataDir: environment.EMBEDDED_PG_DATA_DIR, port: environment.EMBEDDED_PG_PORT });
    process.env.DATABASE_URL = running.embedded.url(EMBEDDED_APP_DATABASE);
    process.env.MIGRATE_ON_START ??= 'true';
  }

  // Loaded only now: AppModule reads and validates process.env when it is imported, and with the
  // embedded server DATABASE_URL exists only from the lines above.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NestFactory } = require('@nestjs/core') as typeof import('@nestjs/core');
  const { AppModule } = require('./app.module') as typeof import('./app.module');
  const { configureApp, createHttpAdapter, NEST_APP_OPTIONS } = require('./app.setup') as typeof import('./app.setup');
  const { Draining } = require('./health/draining') as typeof import('./health/draining');
  /* eslint-enable @typescript-eslint/no-require-imports */
  running.app = await NestFactory.create<NestFastifyApplication>(AppModule, createHttpAdapter({
      trustProxy: environment.trustProxy,
      limits: environment.httpLimits,
      maxInFlightRequests: environment.MAX_IN_FLIGHT_REQUESTS,
    }), {
    ...NEST_APP_OPTIONS,
    bufferLogs: true,
    abortOnError: false,
  });
  running.draining = running.app.get(Draining);
  configureApp(running.app);
  running.logger = new Logger('Main');
  await running.app.listen(environment.PORT, environment.listenHost);
  running.listening = true;

  const url = (await running.app.getUrl()).replace('[::1]', 'localhost').replace('0.0.0.0', 'localhost');
  const database = running.embedded
    ? `embedded PostgreSQL on 127.0.0.1:${running.embedded.port} (data in ${running.embedded.dataDir})`
    : 'DATABASE_URL';
  // Last of the start-up entries: everything above it (routes, migrations) has happened by now.
  report('log', `API listening on ${url}/api/v1 — docs at ${url}/docs — database: ${database}`);
}

/**
 * Order matters: the HTTP server stops accepting and finishes in-flight requests (closeServer, so that no connection
 * is left for Fastify's own 503 without Retry-After), then Sequelize closes its pool, then PostgreSQL stops.
 */
async function stop(): Promise<void> {
  await running.draining?.closeServer();
  await running.app?.close();
  await running.embedded?.stop();
  // Spans of the last requests are exported before exit; an unreachable collector must not fail the shutdown.
  await running.tracing?.shutdown().catch(() => undefined);
}

function main(): void {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let environment: Environment;
  try {
    environment = validateEnvironment(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }

  running.tracing = startTracing();
  const starting = start(environment);
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // At once, before anything is awaited: readiness answers 503 from now on (a no-op before the app exists).
    running.draining?.start();
    const grace = running.listening ? environment.shutdownGraceMs : 0;
    report(
      'log',
      `${signal} received: finishing in-flight requests, then closing the pool and the database` +
        (grace > 0 ? `, after serving ${grace} ms more with readiness failing (SHUTDOWN_GRACE_MS) so that load balancers stop sending` : ''),
    );
    // A signal during start-up waits for it to settle (every start-up step is bounded), so nothing is left half-open.
    const started = await starting.then(
      () => true,
      () => false,
    );
    // An app that finished starting only now is marked too; no grace for it: nothing was routed to it yet.
    running.draining?.start();
    // The grace period serves normally: load balancers see readiness fail and deregister this instance meanwhile.
    if (started && grace > 0) await new Promise((resolve) => setTimeout(resolve, grace));
    // SHUTDOWN_TIMEOUT_MS bounds what follows the grace period: closing the server, the pool and the database.
    setTimeout(() => {
      report('error', `Shutdown took longer than ${environment.SHUTDOWN_TIMEOUT_MS} ms; exiting`);
      process.exit(1);
    }, environment.SHUTDOWN_TIMEOUT_MS).unref();
    await stop();
    process.exit(started ? 0 : 1);
  };
  // Registered before anything starts: an early signal must not orphan the embedded server. `on`, not `once`: a signal
  // can come twice (Ctrl-C reaches the process group, which `nest start` also signals), and Node's default for the
  // second would end the process mid-stop, leaving PostgreSQL running.
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGINT', (signal) => void shutdown(signal));

  starting.catch(async (error: unknown) => {
    if (stopping) return;
    report('error', error instanceof Error ? error.message : String(error));
    await stop().catch(() => undefined);
    process.exit(1);
  });
}

main();
