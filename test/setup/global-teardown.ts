import { dropMarkedDatabases, harnessState, withAdmin } from './test-databases';

export default async function globalTeardown(): Promise<void> {
  const { adminUrl, prefix } = harnessState();
  try {
    await withAdmin(adminUrl, (client) => dropMarkedDatabases(client, prefix));
  } finally {
    await globalThis.__EMBEDDED_TEST_CLUSTER__?.destroy();
  }
}
