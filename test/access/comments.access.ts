/** Who may do what to comments: rows of the access matrix (test/access-matrix.e2e-spec.ts collects this file). */
import type { TestApp } from '../utils/test-app';
import { newPost } from '../fixtures/posts.fixture';
import { rule, to, type Rule, type World } from './access-rules';

/** A live comment written by the owner. */
async function existing(w: World, t: TestApp): Promise<number> {
  const postId = await newPost(t);
  const response = await t.request('POST', `/api/v1/posts/${postId}/comments`, { body: { body: 'Existing' }, as: w.owner.token });
  expect(response.status).toBe(201);
  return response.body.id as number;
}

// Columns: anonymous, another user, the owner (its author), an admin.
export const accessRules: Rule[] = [
  rule('GET    /api/v1/posts/{id}/comments', 'the list of a post', 200, 200, 200, 200, async (_w, t) => to(`/api/v1/posts/${await newPost(t)}/comments`)),
  rule('POST   /api/v1/posts/{id}/comments', 'a comment', 401, 201, 201, 201, async (_w, t) => to(`/api/v1/posts/${await newPost(t)}/comments`, { body: 'New' })),
  rule('GET    /api/v1/posts/{id}/comments', "the list of the owner's draft", 404, 404, 200, 200, (w) => to(`/api/v1/posts/${w.draft}/comments`)),
  rule('POST   /api/v1/posts/{id}/comments', "a comment on the owner's draft", 401, 404, 201, 201, (w) => to(`/api/v1/posts/${w.draft}/comments`, { body: 'New' })),
  rule('GET    /api/v1/comments/{id}', 'an existing comment', 200, 200, 200, 200, async (w, t) => to(`/api/v1/comments/${await existing(w, t)}`)),
  rule('PATCH  /api/v1/comments/{id}', 'an existing comment: body', 401, 403, 200, 200, async (w, t) => to(`/api/v1/comments/${await existing(w, t)}`, { body: 'Edited' })),
  rule('DELETE /api/v1/comments/{id}', 'an existing comment', 401, 403, 204, 204, async (w, t) => to(`/api/v1/comments/${await existing(w, t)}`)),
];
