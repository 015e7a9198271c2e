/**
 * Posts: CRUD, the filtered list, and the operations the users module needs for
 * its cascades and includes (it depends on this service, never on the Post model).
 */
import { ConflictException, Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import { QueryTypes, Transaction, type FindOptions, type ModelStatic } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import type { Actor } from '../common/access/actor';
import { enforce } from '../common/access/access';
import { badBulkRows } from '../common/database/bulk-errors';
import { inTransaction } from '../common/database/transaction-context';
import { toPage, type Page } from '../common/pagination/page.dto';
import { toOrder } from '../common/pagination/sort';
import type { UserRow } from '../users/dto/user-summary.dto';
import { CreatePostDto } from './dto/create-post.dto';
import { POST_SORT_FIELDS, type ListPostsQueryDto } from './dto/post-query.dto';
import { toPostResponse, toPostWithAuthorResponse, type PostResponseDto, type PostRow } from './dto/post-response.dto';
import { UpdatePostDto } from './dto/update-post.dto';
import { Post, POST_PUBLIC_ATTRIBUTES, type PostAttributes } from './models/post.model';
import { type PostFacts, PostsPolicy } from './posts.policy';

type ScopeList = Array<string | { method: [string, ...unknown[]] }>;

// The users module depends on this one, so the author check cannot go through
// UsersService. FOR SHARE makes a concurrent user delete wait for this request's
// transaction, so a post is never created under an author being deleted.
const LIVE_AUTHOR_SQL = 'SELECT 1 FROM users WHERE id = $1 AND "deletedAt" IS NULL FOR SHARE';

// POST /posts in one statement: the author check above rides on the INSERT, FOR SHARE lock included (a concurrent
// delete of the author waits for this transaction, or, if it committed first, the re-checked row is no longer live and
// nothing is inserted). No row back means no live author: 422, as before. One round trip and no model instance instead
// of two statements through Model.create (see bench/README.md). The columns are POST_PUBLIC_ATTRIBUTES.
const POST_COLUMNS = POST_PUBLIC_ATTRIBUTES.map((name) => `"${name}"`).join(', ');
const CREATE_POST_SQL = `
  INSERT INTO posts (title, body, published, "authorId", "createdAt", "updatedAt")
  SELECT $1::varchar, $2::text, $3::boolean, $4::int, $5::timestamptz, $5::timestamptz
  WHERE EXISTS (SELECT 1 FROM users WHERE id = $4::int AND "deletedAt" IS NULL FOR SHARE)
  RETURNING ${POST_COLUMNS}`;

/** What `include=posts` embeds per user. */
export interface AuthorPosts {
  postCount: number;
  posts: PostResponseDto[];
}

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

@Injectable()
export class PostsService {
  constructor(
    @InjectModel(Post) private readonly posts: typeof Post,
    private readonly sequelize: Sequelize,
  ) {}

  /** The author is the caller unless `authorId` says otherwise (admins only). */
  async create(actor: Actor | undefined, dto: CreatePostDto): Promise<PostResponseDto> {
    const authorId = dto.authorId ?? actor?.id;
    enforce(authorId === undefined ? 'unauthenticated' : PostsPolicy.create(actor, authorId), {
      action: `write posts as user ${authorId}`,
      resource: 'Post',
    });
    const row = await this.sequelize.query<PostRow>(CREATE_POST_SQL, {
      // Timestamps set from JS, as Model.create did (millisecond precision, createdAt = updatedAt).
      bind: [dto.title, dto.body, dto.published ?? false, authorId, new Date()],
      type: QueryTypes.SELECT,
      plain: true,
    });
    if (!row) throw new UnprocessableEntityException(`Author ${authorId} does not exist`);
    return toPostResponse(row);
  }

  /**
   * Posts of an author created in the same request (POST /users/with-posts): one INSERT for all of them,
   * no author check (the caller has just written the author in this transaction).
   */
  async createManyForAuthor(
    authorId: number,
    posts: ReadonlyArray<Pick<CreatePostDto, 'title' | 'body' | 'published'>>,
  ): Promise<PostResponseDto[]> {
    if (posts.length === 0) return [];
    const rows = posts.map((post) => ({ title: post.title, body: post.body, published: post.published ?? false, authorId }));
    const created = await this.posts
      .bulkCreate(rows, { validate: true, returning: [...POST_PUBLIC_ATTRIBUTES] })
      .catch((error: unknown) => {
        throw badBulkRows(error, 'posts', (record) => rows.findIndex((row) => row.title === record.title && row.body === record.body));
      });
    return created.map((post) => toPostResponse(post.get()));
  }

  /** GET /posts, and GET /users/:id/posts with `authorId` from the path: the posts the actor may see. */
  async findAll(actor: Actor | undefined, query: ListPostsQueryDto): Promise<Page<PostResponseDto>> {
    const scopes = filterScopes(query);
    const where = PostsPolicy.readableWhere(actor);
    const total = await this.withScopes(scopes).count({ where });
    const options: FindOptions<PostAttributes> = {
      where,
      attributes: [...POST_PUBLIC_ATTRIBUTES],
      order: toOrder(query.sort, POST_SORT_FIELDS),
      limit: query.limit,
      offset: query.offset,
      raw: true,
    };
    if (query.include === 'author') {
      // belongsTo: a plain join, one row per post, so limit/offset stay on posts.
      const rows = await this.withScopes([...scopes, 'withAuthor']).findAll({ ...options, nest: true });
      return toPage((rows as unknown as Array<PostRow & { author: UserRow }>).map((row) => toPostWithAuthorResponse(row, actor)), total, query);
    }
    const rows = (await this.withScopes(scopes).findAll(options)) as unknown as PostRow[];
    return toPage(rows.map(toPostResponse), total, query);
  }

  async findOne(actor: Actor | undefined, id: number, include?: 'author'): Promise<PostResponseDto> {
    const model = include === 'author' ? this.posts.scope('withAuthor') : this.posts;
    const row = (await model.findByPk(id, {
      attributes: [...POST_PUBLIC_ATTRIBUTES],
      raw: true,
      nest: include === 'author',
    })) as unknown as (PostRow & { author?: UserRow }) | null;
    if (!row || !PostsPolicy.canRead(actor, row)) throw new NotFoundException(`Post ${id} not found`);
    return row.author ? toPostWithAuthorResponse(row as PostRow & { author: UserRow }, actor) : toPostResponse(row);
  }

  async update(actor: Actor | undefined, id: number, dto: UpdatePostDto): Promise<PostResponseDto> {
    const post = await this.lockForWrite(id, false);
    enforce(post ? PostsPolicy.write(actor, post, dto.authorId) : 'hidden', {
      action: dto.authorId === undefined ? `change post ${id}` : `give post ${id} to user ${dto.authorId}`,
      resource: `Post ${id}`,
    });
    const values = definedValues(dto);
    if (Object.keys(values).length === 0) return this.findOne(actor, id);
    if (values.authorId !== undefined) await this.assertLiveAuthor(values.authorId, UnprocessableEntityException);
    const [count, rows] = await this.posts.update(values, {
      where: { id },
      returning: [...POST_PUBLIC_ATTRIBUTES],
    });
    if (count === 0) throw new NotFoundException(`Post ${id} not found`);
    return toPostResponse(rows[0].get());
  }

  async remove(actor: Actor | undefined, id: number): Promise<void> {
    const post = await this.lockForWrite(id, false);
    enforce(post ? PostsPolicy.write(actor, post) : 'hidden', { action: `delete post ${id}`, resource: `Post ${id}` });
    const count = await this.posts.destroy({ where: { id } });
    if (count === 0) throw new NotFoundException(`Post ${id} not found`);
  }

  async restore(actor: Actor | undefined, id: number): Promise<PostResponseDto> {
    return inTransaction(this.sequelize, async () => {
      const post = await this.lockForWrite(id, true);
      enforce(post ? PostsPolicy.write(actor, post) : 'hidden', { action: `restore post ${id}`, resource: `Post ${id}` });
      if (post!.deletedAt !== null) {
        await this.assertLiveAuthor(post!.authorId, ConflictException, 'restore the author first');
        await this.posts.update({ deletedAt: null }, { where: { id }, paranoid: false, silent: true });
      }
      return this.findOne(actor, id);
    });
  }

  /**
   * For each author, how many live posts the actor may see and the newest `limit` of them: one statement whatever
   * the number of authors, and work bounded by `limit` per author (an index range read each), not by their posts.
   */
  async latestByAuthors(
    actor: Actor | undefined,
    authorIds: number[],
    options: { limit: number; published?: boolean },
  ): Promise<Map<number, AuthorPosts>> {
    const byAuthor = new Map<number, AuthorPosts>(authorIds.map((id) => [id, { postCount: 0, posts: [] }]));
    if (authorIds.length === 0) return byAuthor;
    const readable = PostsPolicy.readableSql(actor, { published: 'p.published', author: 'p."authorId"' }, 3);
    const bind: unknown[] = [authorIds, options.limit, ...readable.bind];
    let visible = readable.sql;
    if (options.published !== undefined) {
      bind.push(options.published);
      visible += ` AND p.published = $${bind.length}`;
    }
    const rows = await this.sequelize.query<PostRow & { ownerId: number; postCount: number }>(latestByAuthorsSql(visible), {
      bind,
      type: QueryTypes.SELECT,
    });
    for (const row of rows) {
      const entry = byAuthor.get(row.ownerId)!;
      entry.postCount = row.postCount;
      if (row.id !== null) entry.posts.push(toPostResponse(row));
    }
    return byAuthor;
  }

  /** Soft-deletes an author's live posts with the author's own deletedAt, so restore can tell them apart. */
  async softDeleteByAuthor(authorId: number, deletedAt: Date): Promise<void> {
    await this.posts.update({ deletedAt }, { where: { authorId }, silent: true });
  }

  /** Restores the posts that were deleted together with their author (same deletedAt). */
  async restoreByAuthor(authorId: number, deletedAt: Date): Promise<void> {
    await this.posts.update({ deletedAt: null }, { where: { authorId, deletedAt }, paranoid: false, silent: true });
  }

  /** What the policy needs to decide on a write, with the row locked until the request's transaction ends. */
  private async lockForWrite(id: number, includeDeleted: boolean): Promise<PostFacts | null> {
    return (await this.posts.findByPk(id, {
      attributes: ['authorId', 'published', 'deletedAt'],
      paranoid: !includeDeleted,
      lock: Transaction.LOCK.UPDATE,
      raw: true,
    })) as PostFacts | null;
  }

  private withScopes(scopes: ScopeList): ModelStatic<Post> {
    return scopes.length > 0 ? this.posts.scope(scopes) : this.posts;
  }

  private async assertLiveAuthor(
    authorId: number,
    Failure: new (message: string) => Error,
    hint?: string,
  ): Promise<void> {
    const rows = await this.sequelize.query(LIVE_AUTHOR_SQL, { bind: [authorId], type: QueryTypes.SELECT });
    if (rows.length === 0) throw new Failure(`Author ${authorId} does not exist${hint ? `: ${hint}` : ''}`);
  }
}

function filterScopes(query: ListPostsQueryDto): ScopeList {
  const scopes: ScopeList = [];
  if (query.authorId !== undefined) scopes.push({ method: ['byAuthor', query.authorId] });
  if (query.published !== undefined) scopes.push(query.published ? 'published' : 'drafts');
  if (query.q !== undefined) scopes.push({ method: ['matching', query.q] });
  return scopes;
}

/** The fields a PATCH actually sets; `undefined` means "leave as is". */
function definedValues<T extends object>(dto: T): Partial<T> {
  return Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined)) as Partial<T>;
}
