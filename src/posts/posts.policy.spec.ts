import { Op } from 'sequelize';
import type { Actor } from '../common/access/actor';
import { PostsPolicy } from './posts.policy';

const admin: Actor = { id: 1, role: 'admin', sessionId: 's' };
const author: Actor = { id: 2, role: 'user', sessionId: 's' };
const other: Actor = { id: 3, role: 'user', sessionId: 's' };
const published = { authorId: 2, published: true, deletedAt: null };
const draft = { authorId: 2, published: false, deletedAt: null };
const deleted = { authorId: 2, published: true, deletedAt: new Date() };

describe('PostsPolicy', () => {
  it('reads: anonymous sees published posts, a user also their own drafts, an admin everything', () => {
    expect(PostsPolicy.readableWhere(undefined)).toEqual({ published: true });
    expect(PostsPolicy.readableWhere(other)).toEqual({ [Op.or]: [{ published: true }, { authorId: 3 }] });
    expect(PostsPolicy.readableWhere(admin)).toBeUndefined();
    expect([undefined, other, author, admin].map((actor) => PostsPolicy.canRead(actor, draft))).toEqual([false, false, true, true]);
    expect([undefined, other, author, admin].map((actor) => PostsPolicy.canRead(actor, published))).toEqual([true, true, true, true]);
  });

  it('creates: a user under their own name only, an admin under anyone', () => {
    expect([undefined, other, author, admin].map((actor) => PostsPolicy.create(actor, 2))).toEqual(['unauthenticated', 'forbidden', 'allow', 'allow']);
  });

  it.each([
    ['a published post', published, ['unauthenticated', 'forbidden', 'allow', 'allow']],
    ['a draft', draft, ['unauthenticated', 'hidden', 'allow', 'allow']],
    ['a deleted post', deleted, ['unauthenticated', 'hidden', 'allow', 'allow']],
  ])('writes %s: anonymous, another user, the author, an admin', (_case, post, expected) => {
    expect([undefined, other, author, admin].map((actor) => PostsPolicy.write(actor, post))).toEqual(expected);
  });

  it('moving a post to another author is for admins; naming oneself is no move', () => {
    expect(PostsPolicy.write(author, published, 3)).toBe('forbidden');
    expect(PostsPolicy.write(author, published, 2)).toBe('allow');
    expect(PostsPolicy.write(admin, published, 3)).toBe('allow');
  });
});
