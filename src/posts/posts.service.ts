/**
 * Posts: CRUD, the filtered list, and the operations the users module needs for
 * its cascades and includes (it depends on this service, never on the Post model).
 */
import { ConflictException, Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import { QueryTypes, type FindOptions, type ModelStatic } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { badBulkRows } from '../common/database/bulk-errors';
import { toPage, type Page } from '../common/pagination/page.dto';
import { toOrder } from '../common/pagination/sort';
import type { UserRow } from '../users/dto/user-response.dto';
import { CreatePostDto } from './dto/create-post.dto';
import { POST_SORT_FIELDS, type ListPostsQueryDto } from './dto/post-query.dto';
import { toPostResponse, toPostWithAuthorResponse, type PostResponseDto, type PostRow } from './dto/post-response.dto';
import { UpdatePostDto } from './dto/update-post.dto';
import { Post, POST_PUBLIC_ATTRIBUTES, type PostAttributes } from './models/post.model';

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

@Injectable()
export class PostsService {
  constructor(
    @InjectModel(Post) private readonly posts: typeof Post,
    private readonly sequelize: Sequelize,
  ) {}

  async create(dto: CreatePostDto): Promise<PostResponseDto> {
    const row = await this.sequelize.query<PostRow>(CREATE_POST_SQL, {
      // Timestamps set from JS, as Model.create did (millisecond precision, createdAt = updatedAt).
      bind: [dto.title, dto.body, dto.published ?? false, dto.authorId, new Date()],
      type: QueryTypes.SELECT,
      plain: true,
    });
    if (!row) throw new UnprocessableEntityException(`Author ${dto.authorId} does not exist`);
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

  /** GET /posts, and GET /users/:id/posts with `authorId` from the path. */
  async findAll(query: ListPostsQueryDto): Promise<Page<PostResponseDto>> {
    const scopes = filterScopes(query);
    const total = await this.withScopes(scopes).count();
    const options: FindOptions<PostAttributes> = {
      attributes: [...POST_PUBLIC_ATTRIBUTES],
      order: toOrder(query.sort, POST_SORT_FIELDS),
      limit: query.limit,
      offset: query.offset,
      raw: true,
    };
    if (query.include === 'author') {
      // belongsTo: a plain join, one row per post, so limit/offset stay on posts.
      const rows = await this.withScopes([...scopes, 'withAuthor']).findAll({ ...options, nest: true });
      return toPage((rows as unknown as Array<PostRow & { author: UserRow }>).map(toPostWithAuthorResponse), total, query);
    }
    const rows = (await this.withScopes(scopes).findAll(options)) as unknown as PostRow[];
    return toPage(rows.map(toPostResponse), total, query);
  }

  async findOne(id: number, include?: 'author'): Promise<PostResponseDto> {
    const model = include === 'author' ? this.posts.scope('withAuthor') : this.posts;
    const row = (await model.findByPk(id, {
      attributes: [...POST_PUBLIC_ATTRIBUTES],
      raw: true,
      nest: include === 'author',
    })) as unknown as (PostRow & { author?: UserRow }) | null;
    if (!row) throw new NotFoundException(`Post ${id} not found`);
    return row.author ? toPostWithAuthorResponse(row as PostRow & { author: UserRow }) : toPostResponse(row);
  }

  async update(id: number, dto: UpdatePostDto): Promise<PostResponseDto> {
    const values = definedValues(dto);
    if (Object.keys(values).length === 0) return this.findOne(id);
    if (values.authorId !== undefined) await this.assertLiveAuthor(values.authorId, UnprocessableEntityException);
    const [count, rows] = await this.posts.update(values, {
      where: { id },
      returning: [...POST_PUBLIC_ATTRIBUTES],
    });
    if (count === 0) throw new NotFoundException(`Post ${id} not found`);
    return toPostResponse(rows[0].get());
  }

  async remove(id: number): Promise<void> {
    const count = await this.posts.destroy({ where: { id } });
    if (count === 0) throw new NotFoundException(`Post ${id} not found`);
  }

  async restore(id: number): Promise<PostResponseDto> {
    return this.sequelize.transaction(async () => {
      const post = await this.posts.findByPk(id, {
        attributes: ['authorId', 'deletedAt'],
        paranoid: false,
        raw: true,
      });
      if (!post) throw new NotFoundException(`Post ${id} not found`);
      if (post.deletedAt !== null) {
        await this.assertLiveAuthor(post.authorId, ConflictException, 'restore the author first');
        await this.posts.update({ deletedAt: null }, { where: { id }, paranoid: false, silent: true });
      }
      return this.findOne(id);
    });
  }

  /** Live posts of the given authors, newest first: one statement whatever the number of authors. */
  async findByAuthors(authorIds: number[], published?: boolean): Promise<Map<number, PostResponseDto[]>> {
    const byAuthor = new Map<number, PostResponseDto[]>(authorIds.map((id) => [id, []]));
    if (authorIds.length === 0) return byAuthor;
    const scopes: ScopeList = [{ method: ['byAuthors', authorIds] }];
    if (published !== undefined) scopes.push(published ? 'published' : 'drafts');
    const rows = (await this.posts.scope(scopes).findAll({
      attributes: [...POST_PUBLIC_ATTRIBUTES],
      order: [
        ['createdAt', 'DESC'],
        ['id', 'DESC'],
      ],
      raw: true,
    })) as unknown as PostRow[];
    for (const row of rows) byAuthor.get(row.authorId)?.push(toPostResponse(row));
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
