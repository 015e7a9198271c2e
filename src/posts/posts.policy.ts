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

export const PostsPolicy = {
  /** The rows of `posts` the actor may see, as a filter every read adds; undefined: all of them. */
  readableWhere(actor: Actor | undefined): WhereOptions<PostAttributes> | undefined {
    if (!actor) return { published: true };
    if (actor.role === 'admin') return undefined;
    return { [Op.or]: [{ published: true }, { authorId: actor.id }] };
  },

  /**
   * readableWhere as SQL, for the statements a model query cannot express (the per-author LATERAL read): a condition
   * on the posts columns `published` and `author`; the actor's id, when needed, is bound as `$actorParam`.
   */
  readableSql(actor: Actor | undefined, columns: { published: string; author: string }, actorParam: string): { sql: string; bindsActor: boolean } {
    if (!actor) return { sql: columns.published, bindsActor: false };
    if (actor.role === 'admin') return { sql: 'TRUE', bindsActor: false };
    return { sql: `(${columns.published} OR ${columns.author} = ${actorParam})`, bindsActor: true };
  },

  canRead(actor: Actor | undefined, post: Pick<PostFacts, 'authorId' | 'published'>): boolean {
    return post.published || actor?.role === 'admin' || actor?.id === post.authorId;
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
