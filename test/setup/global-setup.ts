/**
 * Once per run: find a PostgreSQL (DATABASE_URL as admin connection, or a throwaway embedded cluster
 * under the OS temp directory), migrate a template database, and clone one database per Jest worker.
 * With DATABASE_MIGRATION_URL set too, DATABASE_URL is a transaction pooler in front of that server: the databases
 * are made and migrated on the direct connection, and the apps under test connect through the pooler.
 */
import { Sequelize } from 'sequelize';
import { Environment } from '../../src/config/environment';
import { createMigrator } from '../../src/database/migrator';
import { TempCluster } from '../utils/temp-cluster';
import { createMarkedDatabase, setServerLimits, databaseUrl, templateDatabaseName, withAdmin, workerDatabaseName } from './test-databases';

declare global {
  var __EMBEDDED_TEST_CLUSTER__: TempCluster | undefined;
}

export default async function globalSetup(globalConfig: { maxWorkers: number }): Promise<void> {
  let adminUrl = process.env.DATABASE_MIGRATION_URL ?? process.env.DATABASE_URL;
  if (!adminUrl) {
    const cluster = await TempCluster.start('test-pg');
    globalThis.__EMBEDDED_TEST_CLUSTER__ = cluster;
    adminUrl = cluster.server.url();
  }
  const prefix = `nsvc_test_${Date.now().toString(36)}_${process.pid}_`;
  process.env.TEST_ADMIN_DATABASE_URL = adminUrl;
  const pooled = Boolean(process.env.DATABASE_MIGRATION_URL && process.env.DATABASE_URL && process.env.DATABASE_URL !== adminUrl);
  process.env.TEST_APP_DATABASE_URL = pooled ? process.env.DATABASE_URL : adminUrl;
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
      const name = workerDatabaseName(prefix, String(worker));
      await createMarkedDatabase(client, name, template);
      // Behind the pooler the limits are the server's (DATABASE_POOLER=transaction): the app's defaults, set on the
      // database, as an operator sets them on the app's role.
      if (pooled) await setServerLimits(client, name, new Environment().databaseLimits);
    }
  });
}
