/**
 * Once per run: find a PostgreSQL (DATABASE_URL as admin connection, or a throwaway embedded cluster
 * under the OS temp directory), migrate a template database, and clone one database per Jest worker.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Sequelize } from 'sequelize';
import { EmbeddedPostgres } from '../../src/database/embedded/embedded-postgres';
import { createMigrator } from '../../src/database/migrator';
import { freePort } from '../utils/app-process';
import { createMarkedDatabase, databaseUrl, templateDatabaseName, withAdmin, workerDatabaseName } from './test-databases';

declare global {
  var __EMBEDDED_TEST_POSTGRES__: EmbeddedPostgres | undefined;
}

export default async function globalSetup(globalConfig: { maxWorkers: number }): Promise<void> {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const server = await EmbeddedPostgres.start({
      dataDir: path.join(await mkdtemp(path.join(tmpdir(), 'nsvc-test-pg-')), 'data'),
      port: await freePort(),
      fast: true,
    });
    globalThis.__EMBEDDED_TEST_POSTGRES__ = server;
    adminUrl = server.url();
  }
  const prefix = `nsvc_test_${Date.now().toString(36)}_${process.pid}_`;
  process.env.TEST_ADMIN_DATABASE_URL = adminUrl;
  process.env.TEST_DATABASE_PREFIX = prefix;

  const template = templateDatabaseName(prefix);
  await withAdmin(adminUrl, (client) => createMarkedDatabase(client, template));
  const sequelize = new Sequelize(databaseUrl(adminUrl, template), { logging: false });
  try {
    await createMigrator(sequelize).up();
  } finally {
    await sequelize.close();
  }
  await withAdmin(adminUrl, async (client) => {
    for (let worker = 1; worker <= Math.max(1, globalConfig.maxWorkers); worker++) {
      await createMarkedDatabase(client, workerDatabaseName(prefix, String(worker)), template);
    }
  });
}
