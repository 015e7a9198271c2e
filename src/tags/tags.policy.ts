/**
 * Who may do what to tags: pure functions of the actor and the row (see common/access/access.ts for how an
 * answer becomes a status). Everyone may read them; only admins write them.
 */
import type { Actor } from '../common/access/actor';
import { adminOnly, type Decision } from '../common/access/access';

export const TagsPolicy = {
  create: adminOnly,

  write(actor: Actor | undefined): Decision {
    return adminOnly(actor);
  },
} as const;
