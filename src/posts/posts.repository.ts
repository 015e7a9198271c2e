/**
 * The `posts` table: the only code that reads or writes it, including the reports that aggregate posts per user.
 * Writes go through the model, so its hooks run (the audit trail, the cascades of `@FollowsParent`).
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import { literal, Op, Transaction, type WhereOptions } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { badBulkRows } from '../common/database/bulk-errors';
import { Repository, type ScopeList } from '../common/database/repository';
import type { FoundPage, PageWindow } from '../common/pagination/paginator';
import type { UserRow } from '../users/dto/user-summary.dto';
import type { PostRow } from './dto/post-response.dto';
import { Post, POST_PUBLIC_ATTRIBUTES, type PostAttributes, type PostCreationAttributes } from './models/post.model';
import type { PostFacts } from './posts.policy';

export interface PostFilter {
  readonly authorId?: number;
  readonly published?: boolean;
  readonly q?: string;
  /** The access policy's condition (PostsPolicy.readableWhere). */
  readonly readable?: WhereOptions<PostAttributes>;
  /** Only the posts whose ids this subquery returns (PostTagsRepository.postsWithTag). */
  readonly idIn?: ReturnType<typeof literal>;
}

export type PostChanges = Partial<Pick<PostAttributes, 'title' | 'body' | 'published' | 'authorId'>>;

// Per author (a LATERAL subquery each): the count, and the newest posts through posts_author_id_created_at_id_live.
// `visible` is built from fixed fragments (the policy's condition, the published filter), never from input.
const LATEST_POST_COLUMNS = POST_PUBLIC_ATTRIBUTES.map((name) => `p."${name}"`).join(', ');
function latestByAuthorsSql(visible: string): string {
  const live = `p."authorId" = a.id AND p."deletedAt" IS NULL AND ${visible}`;
  return `
  SELECT a.id AS "ownerId", c."postCount", latest.*
  FROM unnest($1::int[]) AS a(id)
  CROSS JOIN LATERAL (SELECT count(*)::int AS "postCount" FROM posts p WHERE ${live}) c
  LEFT JOIN LATERAL (
    SELECT ${LATEST_POST_COLUMNS} FROM posts p WHERE ${live} ORDER BY p."createdAt" DESC, p.id DESC LIMIT $2
  ) latest ON TRUE
  ORDER BY a.id, latest."createdAt" DESC, latest.id DESC`;
}

const LOCK_LIVE_FACTS_SQL = 'SELECT "authorId", published FROM posts WHERE id = $1 AND "deletedAt" IS NULL FOR SHARE';

// Live users only, each with its number of live published posts (drafts are not anyone else's business, not even
// as a count); `::int` so pg returns a number, not a bigint string. Here because it counts posts.
const TOP_AUTHORS_SQL = `
  SELECT u.id, u.name, COUNT(p.id)::int AS "postCount"
  FROM users u
  LEFT JOIN posts p ON p."authorId" = u.id AND p."deletedAt" IS NULL AND p.published
  WHERE u."deletedAt" IS NULL
  GROUP BY u.id
  ORDER BY "postCount" DESC, u.id ASC
  LIMIT $1`;

@Injectable()
export class PostsRepository extends Repository {
  constructor(
    @InjectModel(Post) private readonly posts: typeof Post,
    sequelize: Sequelize,
  ) {
    super(sequelize);
  }

  /** The author must be a live user: the database checks it in the INSERT (common/database/dead-reference.ts). */
  async create(values: PostCreationAttributes): Promise<PostRow> {
    await this.ready();
    return publicRow(await this.posts.create(values));
  }

  /** One INSERT for all of them; a row the database refuses is named by its index (400). */
  async createMany(rows: PostCreationAttributes[]): Promise<PostRow[]> {
    if (rows.length === 0) return [];
    await this.ready();
    const created = await this.posts.bulkCreate(rows, { validate: true, returning: [...POST_PUBLIC_ATTRIBUTES] }).catch((error: unknown) => {
      throw badBulkRows(error, 'posts', (record) => rows.findIndex((row) => row.title === record.title && row.body === record.body));
    });
    return created.map(publicRow);
  }

  async page(filter: PostFilter, window: PageWindow, includeAuthor: boolean): Promise<FoundPage<PostRow & { author?: UserRow }>> {
    const scopes = filterScopes(filter);
    const where: WhereOptions<PostAttributes> | undefined = filter.idIn
      ? { [Op.and]: [filter.readable ?? {}, { id: { [Op.in]: filter.idIn } }] }
      : filter.readable;
    const filtered = this.scoped(this.posts, scopes);
    // belongsTo: a plain join, one row per post, so limit and the keyset stay on posts; the count needs no join.
    return includeAuthor
      ? this.findPage(this.scoped(this.posts, [...scopes, 'withAuthor']), { where, attributes: [...POST_PUBLIC_ATTRIBUTES], raw: true, nest: true }, window, filtered)
      : this.findPage(filtered, { where, attributes: [...POST_PUBLIC_ATTRIBUTES], raw: true }, window);
  }

  async findLive(id: number, includeAuthor: boolean): Promise<(PostRow & { author?: UserRow }) | null> {
    await this.ready();
    const model = this.scoped(this.posts, includeAuthor ? ['withAuthor'] : []);
    return (await model.findByPk(id, { attributes: [...POST_PUBLIC_ATTRIBUTES], raw: true, nest: includeAuthor })) as unknown as
      | (PostRow & { author?: UserRow })
      | null;
  }

  /** Whether a live post has this id (whoever may see it: the caller's module decides that). */
  async exists(id: number): Promise<boolean> {
    return (await this.findLive(id, false)) !== null;
  }

  /**
   * What the read policy needs to know of a live post, share-locked until the caller's transaction ends (a row that
   * belongs to it is being written); null when there is no live post with this id.
   */
  async lockLiveFacts(id: number): Promise<Pick<PostFacts, 'authorId' | 'published'> | null> {
    return this.selectOne(LOCK_LIVE_FACTS_SQL, [id]);
  }

  /** What the policy needs to decide on a write, with the row locked until the request's transaction ends. */
  async lockForWrite(id: number, includeDeleted: boolean): Promise<PostFacts | null> {
    await this.ready();
    return (await this.posts.findByPk(id, {
      attributes: ['authorId', 'published', 'deletedAt'],
      paranoid: !includeDeleted,
      lock: Transaction.LOCK.UPDATE,
      raw: true,
    })) as PostFacts | null;
  }

  /**
   * Lock, decide, write (Repository.updateLocked): `decide` sees the live post and returns what to change. A new
   * author must be a live user: the database checks it in the UPDATE.
   */
  async update(id: number, decide: (post: PostRow) => PostChanges): Promise<PostRow | null> {
    const post = await this.updateLocked(this.posts, id, POST_PUBLIC_ATTRIBUTES, (row) => decide(publicRow(row)));
    return post && publicRow(post);
  }

  /** Lock, decide, delete (Repository.deleteLocked): `decide` sees what the policy needs of the live post. */
  async remove(id: number, decide: (post: PostFacts) => void): Promise<boolean> {
    return this.deleteLocked(this.posts, id, ['id', 'authorId', 'published', 'deletedAt'], (row) => decide(row.get()));
  }

  /** Restores a post deleted on its own (refused with 409 while its author is deleted: the cascade rules). */
  async restore(id: number, deletedAt: Date): Promise<boolean> {
    return (await this.restoreDeleted(this.posts, { id }, deletedAt)) > 0;
  }

  async deletedAt(id: number): Promise<Date | null> {
    await this.ready();
    const row = (await this.posts.findByPk(id, { attributes: ['deletedAt'], paranoid: false, raw: true })) as { deletedAt: Date | null } | null;
    return row?.deletedAt ?? null;
  }

  /**
   * For each author, how many live posts match `visible` and the newest `limit` of them: one statement whatever the
   * number of authors. `visible` is a condition on `p` built from fixed fragments, with its values in `bind` from $3 on.
   */
  async latestByAuthors(authorIds: number[], limit: number, visible: { sql: string; bind: unknown[] }): Promise<Array<PostRow & { ownerId: number; postCount: number }>> {
    return this.select(latestByAuthorsSql(visible.sql), [authorIds, limit, ...visible.bind]);
  }

  async topAuthors(limit: number): Promise<Array<{ id: number; name: string; postCount: number }>> {
    return this.select(TOP_AUTHORS_SQL, [limit]);
  }
}

function filterScopes(filter: PostFilter): ScopeList {
  const scopes: Array<ScopeList[number]> = [];
  if (filter.authorId !== undefined) scopes.push({ method: ['byAuthor', filter.authorId] });
  if (filter.published !== undefined) scopes.push(filter.published ? 'published' : 'drafts');
  if (filter.q !== undefined) scopes.push({ method: ['matching', filter.q] });
  return scopes;
}

function publicRow(post: Post): PostRow {
  const { id, title, body, published, authorId, createdAt, updatedAt, version } = post.get();
  return { id, title, body, published, authorId, createdAt, updatedAt, version };
}
