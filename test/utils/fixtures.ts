/**
 * What several e2e files need alike: creating users and posts through the API, checking that an error
 * response has the API's shape and gives nothing away, and reading the state of Sequelize's pool.
 */
import type { Sequelize } from 'sequelize-typescript';
import type { TestApp, TestResponse } from './test-app';

export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Words that would mean SQL, a stack trace or a library name leaked into an error body. */
const LEAKS = /sequelize|\bSELECT\b|\bINSERT\b|\bUPDATE\b|stack|SQLSTATE/i;

export function expectApiError(response: Pick<TestResponse, 'status' | 'body'>, status: number): void {
  expect(response.status).toBe(status);
  expect(response.body).toMatchObject({ statusCode: status, error: expect.any(String) });
  expect(typeof response.body.message === 'string' || Array.isArray(response.body.message)).toBe(true);
  expect(JSON.stringify(response.body)).not.toMatch(LEAKS);
}

/** Creates a user through the API (a unique email unless one is given) and returns its representation. */
export async function createUser(t: TestApp, body: Record<string, unknown> = {}): Promise<any> {
  const seq = Math.random().toString(36).slice(2, 10);
  const response = await t.request('POST', '/api/v1/users', {
    body: { name: `User ${seq}`, email: `user-${seq}@example.com`, ...body },
  });
  expect(response.status).toBe(201);
  return response.body;
}

/** Creates a post of `authorId` through the API and returns its representation. */
export async function createPost(t: TestApp, authorId: number, body: Record<string, unknown> = {}): Promise<any> {
  const response = await t.request('POST', '/api/v1/posts', {
    body: { title: 'A title', body: 'A body', authorId, ...body },
  });
  expect(response.status).toBe(201);
  return response.body;
}

export interface PoolStats {
  size: number;
  available: number;
  using: number;
  waiting: number;
}

/** Connections of Sequelize's pool: open, idle, checked out, and requests waiting for one. */
export function poolStats(sequelize: Sequelize): PoolStats {
  const { pool } = sequelize.connectionManager as unknown as { pool: PoolStats };
  return { size: pool.size, available: pool.available, using: pool.using, waiting: pool.waiting };
}
