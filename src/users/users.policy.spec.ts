import type { Actor } from '../common/access/actor';
import { UsersPolicy } from './users.policy';

const admin: Actor = { id: 1, role: 'admin', sessionId: 's' };
const owner: Actor = { id: 2, role: 'user', sessionId: 's' };
const other: Actor = { id: 3, role: 'user', sessionId: 's' };
const everyone = [undefined, other, owner, admin];

describe('UsersPolicy', () => {
  it("shows a user's email to that user and to admins", () => {
    expect(everyone.map((actor) => UsersPolicy.canReadEmail(actor, 2))).toEqual([false, false, true, true]);
  });

  it('creating users, the batch writes and restoring are for admins', () => {
    expect(everyone.map((actor) => UsersPolicy.manage(actor))).toEqual(['unauthenticated', 'forbidden', 'forbidden', 'allow']);
  });

  it('filtering and sorting by email are for admins, anonymous callers included in the refusal', () => {
    expect(everyone.map((actor) => UsersPolicy.queryByEmail(actor))).toEqual(['forbidden', 'forbidden', 'forbidden', 'allow']);
  });

  it('updates: the owner changes their profile but not their role; admins change anything', () => {
    expect(everyone.map((actor) => UsersPolicy.update(actor, 2, {}))).toEqual(['unauthenticated', 'forbidden', 'allow', 'allow']);
    expect(everyone.map((actor) => UsersPolicy.update(actor, 2, { role: 'user' }))).toEqual(['unauthenticated', 'forbidden', 'forbidden', 'allow']);
  });

  it('a new password of your own needs the current one; an admin resetting another user does not', () => {
    expect(UsersPolicy.needsCurrentPassword(owner, 2)).toBe(true);
    expect(UsersPolicy.needsCurrentPassword(admin, 1)).toBe(true);
    expect(UsersPolicy.needsCurrentPassword(admin, 2)).toBe(false);
  });

  it('deletes: the user themselves or an admin', () => {
    expect(everyone.map((actor) => UsersPolicy.delete(actor, 2))).toEqual(['unauthenticated', 'forbidden', 'allow', 'allow']);
  });
});
