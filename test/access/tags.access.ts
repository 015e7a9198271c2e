/** Who may do what to tags: rows of the access matrix (test/access-matrix.e2e-spec.ts collects this file). */
import type { TestApp } from '../utils/test-app';
import { rule, to, type Rule, type World } from './access-rules';

/** A live tag written by an admin. */
async function existing(w: World, t: TestApp): Promise<number> {
  const response = await t.request('POST', `/api/v1/tags`, { body: { name: 'Existing' }, as: w.admin.token });
  expect(response.status).toBe(201);
  return response.body.id as number;
}

// Columns: anonymous, another user, the owner (its author: no special right here), an admin.
export const accessRules: Rule[] = [
  rule('GET    /api/v1/tags', 'the list', 200, 200, 200, 200, () => to('/api/v1/tags')),
  rule('POST   /api/v1/tags', 'a tag', 401, 403, 403, 201, () => to('/api/v1/tags', { name: 'New' })),
  rule('GET    /api/v1/tags/{id}', 'an existing tag', 200, 200, 200, 200, async (w, t) => to(`/api/v1/tags/${await existing(w, t)}`)),
  rule('PATCH  /api/v1/tags/{id}', 'an existing tag: name', 401, 403, 403, 200, async (w, t) => to(`/api/v1/tags/${await existing(w, t)}`, { name: 'Renamed' })),
  rule('DELETE /api/v1/tags/{id}', 'an existing tag', 401, 403, 403, 204, async (w, t) => to(`/api/v1/tags/${await existing(w, t)}`)),
];
