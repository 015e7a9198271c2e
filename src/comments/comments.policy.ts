/**
 * Who may do what to comments: pure functions of the actor and the row (see common/access/access.ts for how an
 * answer becomes a status). Everyone may read them; any user may write one under their own name, and
 * only its author or an admin may change or delete it.
 */
import type { Actor } from '../common/access/actor';
import type { Decision } from '../common/access/access';
import type { CommentFacts } from './comments.repository';

export const CommentsPolicy = {
  create(actor: Actor | undefined): Decision {
    return actor ? 'allow' : 'unauthenticated';
  },

  write(actor: Actor | undefined, row: CommentFacts): Decision {
    if (!actor) return 'unauthenticated';
    return actor.role === 'admin' || actor.id === row.authorId ? 'allow' : 'forbidden';
  },
} as const;
