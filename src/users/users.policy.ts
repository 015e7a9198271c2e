/**
 * Who may do what to users. Pure functions of the actor and the target, asked by the users services before they
 * touch data (see common/access/access.ts for how an answer becomes a status).
 *
 * Anyone may list and read users; a user's email is shown only to that user and to admins. Creating users (with
 * any role), the batch writes and restoring are for admins. A user may change their own name, email and password
 * (the latter with their current password) and delete themselves; only admins change roles or touch other users.
 */
import { type Actor, isAdmin } from '../common/access/actor';
import { adminOnly, type Decision } from '../common/access/access';

export interface UserChanges {
  readonly role?: unknown;
}

export const UsersPolicy = {
  canReadEmail(actor: Actor | undefined, userId: number): boolean {
    return actor !== undefined && (actor.role === 'admin' || actor.id === userId);
  },

  /** POST /users, /users/with-posts, /users/bulk, POST /users/:id/restore. */
  manage: adminOnly,

  /**
   * Filtering GET /users by email would tell anyone which addresses have accounts, and sorting by it would give the
   * hidden addresses away by their order.
   */
  queryByEmail(actor: Actor | undefined): Decision {
    return isAdmin(actor) ? 'allow' : 'forbidden';
  },

  update(actor: Actor | undefined, userId: number, changes: UserChanges): Decision {
    if (!actor) return 'unauthenticated';
    if (actor.role === 'admin') return 'allow';
    if (actor.id !== userId || changes.role !== undefined) return 'forbidden';
    return 'allow';
  },

  /** Changing one's own password needs the current one; an admin resetting someone else's does not. */
  needsCurrentPassword(actor: Actor, userId: number): boolean {
    return actor.id === userId;
  },

  delete(actor: Actor | undefined, userId: number): Decision {
    if (!actor) return 'unauthenticated';
    return actor.role === 'admin' || actor.id === userId ? 'allow' : 'forbidden';
  },
} as const;
