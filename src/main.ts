import { existsSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { validateEnvironment } from './config/environment';
import { EMBEDDED_APP_DATABASE, type EmbeddedPostgres, startAppDatabase } from './database/embedded/embedded-postgres';

async function bootstrap(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const environment = validateEnvironment(process.env);

  let embedded: EmbeddedPostgres | undefined;
  if (!environment.DATABASE_URL) {
    embedded = await startAppDatabase({ dataDir: environment.EMBEDDED_PG_DATA_DIR, port: environment.EMBEDDED_PG_PORT });
    process.env.DATABASE_URL = embedded.url(EMBEDDED_APP_DATABASE);
    process.env.MIGRATE_ON_START ??= 'true';
  }

  let app: NestFastifyApplication | undefined;
  try {
    // Imported only now: AppModule reads and validates process.env when it is loaded, and with the
    // embedded server DATABASE_URL exists only from the lines above.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { AppModule } = require('./app.module') as typeof import('./app.module');
    const { configureApp, createHttpAdapter } = require('./app.setup') as typeof import('./app.setup');
    /* eslint-enable @typescript-eslint/no-require-imports */
    app = await NestFactory.create<NestFastifyApplication>(AppModule, createHttpAdapter(), { bufferLogs: true, abortOnError: false });
    configureApp(app);
    await app.listen(environment.PORT, environment.HOST);
  } catch (error) {
    await app?.close().catch(() => undefined);
    await embedded?.stop();
    throw error;
  }

  const url = (await app.getUrl()).replace('[::1]', 'localhost').replace('0.0.0.0', 'localhost');
  const database = embedded ? `embedded PostgreSQL on 127.0.0.1:${embedded.port} (data in ${embedded.dataDir})` : 'DATABASE_URL';
  console.log(`API listening on ${url}/api/v1 — docs at ${url}/docs — database: ${database}`);

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received: finishing in-flight requests, then closing the pool and the database`);
    const deadline = setTimeout(() => {
      console.error(`Shutdown took longer than ${environment.SHUTDOWN_TIMEOUT_MS} ms; exiting`);
      process.exit(1);
    }, environment.SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    // Order matters: the HTTP server drains first, then Sequelize closes its pool, then PostgreSQL stops.
    await app.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
