/**
 * Writes the OpenAPI document the app serves at /docs-json to openapi.json, without a database:
 * Nest's preview mode resolves modules and routes but instantiates no provider, so Sequelize never connects.
 *
 *   npm run openapi               write openapi.json
 *   npm run openapi -- --check    exit 1 when openapi.json differs from what the code declares
 *
 * Runs under @swc-node/register (tsx/esbuild emits no decorator metadata, which Nest and Swagger read).
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';

export const OPENAPI_FILE = path.resolve(__dirname, '..', 'openapi.json');

export function serializeOpenApi(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

export async function generateOpenApiDocument(): Promise<OpenAPIObject> {
  // Loaded here, not at the top: AppModule validates process.env when it is imported.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { AppModule } = require('../src/app.module') as typeof import('../src/app.module');
  const { configureApp, createHttpAdapter, NEST_APP_OPTIONS } = require('../src/app.setup') as typeof import('../src/app.setup');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createHttpAdapter(), {
    ...NEST_APP_OPTIONS,
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    // The same function main.ts and the e2e harness call, so the file is what a client would fetch from /docs-json.
    return configureApp(app);
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const generated = serializeOpenApi(await generateOpenApiDocument());
  const relative = path.relative(process.cwd(), OPENAPI_FILE);
  if (!check) {
    writeFileSync(OPENAPI_FILE, generated);
    console.log(`Wrote ${relative}`);
    return;
  }
  let committed = '';
  try {
    committed = readFileSync(OPENAPI_FILE, 'utf8');
  } catch {
    // Reported below as out of date.
  }
  if (committed !== generated) {
    console.error(`${relative} is out of date with the controllers and DTOs: run \`npm run openapi\` and commit the result.`);
    process.exit(1);
  }
  console.log(`${relative} is up to date`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
