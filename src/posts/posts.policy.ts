/**
 * Who may see and change posts. Pure functions of the actor and the post, asked by PostsService before it touches
 * data (see common/access/access.ts for how an answer becomes a status).
 *
 * Published posts are public. A draft is seen by its author and admins only; to anyone else it does not exist (404),
 * and neither does a deleted post. Any user may write posts under their own name; only the author or an admin may
 * change, delete or restore one, and only an admin may give a post to another author.
 */
import { Op, type WhereOptions } from 'sequelize';
import type { Actor } from '../common/access/actor';
import type { Decision } from '../common/access/access';
import type { PostAttributes } from './models/post.model';

export type PostFacts = Pick<PostAttributes, 'authorId' | 'published' | 'deletedAt'>;

/** The read rule, stated once: admins read every post; anyone else the published ones, and their own when logged in. */
type Readable = { all: true } | { all: false; ownerId?: number };

function readable(actor: Actor | undefined): Readable {
  if (actor?.role === 'admin') return { all: true };
  return { all: false, ownerId: actor?.id };
}

export const PostsPolicy = {
  /** The rows of `posts` the actor may see, as a filter every read adds; undefined: all of them. */
  readableWhere(actor: Actor | undefined): WhereOptions<PostAttributes> | undefined {
    const rule = readable(actor);
    if (rule.all) return undefined;
    return rule.ownerId === undefined ? { published: true } : { [Op.or]: [{ published: true }, { authorId: rule.ownerId }] };
  },

  /**
   * readableWhere as SQL, for the statements a model query cannot express (the per-author LATERAL read): a condition
   * on the given columns, with the values it binds from parameter number `firstParam` on.
   */
  readableSql(actor: Actor | undefined, columns: { published: string; author: string }, firstParam: number): { sql: string; bind: unknown[] } {
    const rule = readable(actor);
    if (rule.all) return { sql: 'TRUE', bind: [] };
    if (rule.ownerId === undefined) return { sql: columns.published, bind: [] };
    return { sql: `(${columns.published} OR ${columns.author} = $${firstParam})`, bind: [rule.ownerId] };
  },

  canRead(actor: Actor | undefined, post: Pick<PostFacts, 'authorId' | 'published'>): boolean {
    const rule = readable(actor);
    return rule.all || post.published || post.authorId === rule.ownerId;
  },

  create(actor: Actor | undefined, authorId: number): Decision {
    if (!actor) return 'unauthenticated';
    return actor.role === 'admin' || actor.id === authorId ? 'allow' : 'forbidden';
  },

  /** PATCH, DELETE and restore of an existing post (deleted or not); `newAuthorId` when a PATCH moves it. */
  write(actor: Actor | undefined, post: PostFacts, newAuthorId?: number): Decision {
    if (!actor) return 'unauthenticated';
    if (actor.role === 'admin') return 'allow';
    const own = post.authorId === actor.id;
    if (!own && (post.deletedAt !== null || !post.published)) return 'hidden';
    if (!own) return 'forbidden';
    return newAuthorId === undefined || newAuthorId === actor.id ? 'allow' : 'forbidden';
  },
} as const;
