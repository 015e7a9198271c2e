/**
 * Posts: the rules of CRUD and the filtered list, and what the users module embeds (a user's latest posts). Data
 * goes through PostsRepository.
 */
import { Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import type { Actor } from '../common/access/actor';
import { enforce } from '../common/access/access';
import { answerDeadReferences } from '../common/database/dead-reference';
import { withEntityTag } from '../common/http/entity-tag';
import type { Page } from '../common/pagination/page.dto';
import { Paginator } from '../common/pagination/paginator';
import { toOrder } from '../common/pagination/sort';
import type { UserRow } from '../users/dto/user-summary.dto';
import { toTagSummary, type PostTagsResponseDto } from '../tags/dto/tag-response.dto';
import { normaliseTagName } from '../tags/models/tag.model';
import { TagsRepository } from '../tags/tags.repository';
import { CreatePostDto } from './dto/create-post.dto';
import { POST_SORT_FIELDS, type ListPostsQueryDto } from './dto/post-query.dto';
import { toPostResponse, toPostWithAuthorResponse, type PostResponseDto } from './dto/post-response.dto';
import { UpdatePostDto } from './dto/update-post.dto';
import { PostsPolicy } from './posts.policy';
import type { ReplacePostTagsDto } from './dto/replace-post-tags.dto';
import { PostTagsRepository } from './post-tags.repository';
import { PostsRepository, type PostChanges } from './posts.repository';

/** What `include=posts` embeds per user. */
export interface AuthorPosts {
  postCount: number;
  posts: PostResponseDto[];
}

@Injectable()
export class PostsService {
  constructor(
    private readonly posts: PostsRepository,
    private readonly tags: TagsRepository,
    private readonly postTags: PostTagsRepository,
    private readonly pages: Paginator,
  ) {}

  /** The author is the caller unless `authorId` says otherwise (admins only). */
  async create(actor: Actor | undefined, dto: CreatePostDto): Promise<PostResponseDto> {
    const authorId = dto.authorId ?? actor?.id;
    enforce(authorId === undefined ? 'unauthenticated' : PostsPolicy.create(actor, authorId), {
      action: `write posts as user ${authorId}`,
      resource: 'Post',
    });
    // The author must be a live user: the database checks it in the INSERT.
    const row = await this.posts
      .create({ title: dto.title, body: dto.body, published: dto.published ?? false, authorId: authorId! })
      .catch(answerDeadReferences({ authorId: () => missingAuthor(authorId!) }));
    return toPostResponse(row);
  }

  /**
   * Posts of an author created in the same request (POST /users/with-posts): one INSERT for all of them (the
   * database checks each row's author, written earlier in this transaction).
   */
  async createManyForAuthor(
    authorId: number,
    posts: ReadonlyArray<Pick<CreatePostDto, 'title' | 'body' | 'published'>>,
  ): Promise<PostResponseDto[]> {
    const rows = await this.posts.createMany(posts.map((post) => ({ title: post.title, body: post.body, published: post.published ?? false, authorId })));
    return rows.map(toPostResponse);
  }

  /** GET /posts, and GET /users/:id/posts with `authorId` from the path: the posts the actor may see. */
  async findAll(actor: Actor | undefined, query: ListPostsQueryDto): Promise<Page<PostResponseDto>> {
    const includeAuthor = query.include === 'author';
    const window = this.pages.window('posts', query, toOrder(query.sort, POST_SORT_FIELDS), {
      authorId: query.authorId,
      published: query.published,
      // As the repository matches them: q case-insensitively, tag by its normalised name.
      q: query.q?.toLowerCase(),
      tag: query.tag === undefined ? undefined : normaliseTagName(query.tag),
    });
    let idIn: ReturnType<PostTagsRepository['postsWithTag']> | undefined;
    if (query.tag !== undefined) {
      const tag = await this.tags.findLiveByName(query.tag);
      if (!tag) return this.pages.emptyPage(window);
      idIn = this.postTags.postsWithTag(tag.id);
    }
    const found = await this.posts.page(
      { authorId: query.authorId, published: query.published, q: query.q, readable: PostsPolicy.readableWhere(actor), idIn },
      window,
      includeAuthor,
    );
    const data = includeAuthor
      ? found.rows.map((row) => toPostWithAuthorResponse(row as typeof row & { author: UserRow }, actor))
      : found.rows.map(toPostResponse);
    return this.pages.page(data, found, window);
  }

  async findOne(actor: Actor | undefined, id: number, include?: 'author'): Promise<PostResponseDto> {
    const row = await this.posts.findLive(id, include === 'author');
    if (!row || !PostsPolicy.canRead(actor, row)) throw new NotFoundException(`Post ${id} not found`);
    // With its author embedded, the representation changes when the author does: no tag of the post's alone.
    return row.author ? toPostWithAuthorResponse(row as typeof row & { author: UserRow }, actor) : withEntityTag(toPostResponse(row), row);
  }

  async update(actor: Actor | undefined, id: number, dto: UpdatePostDto): Promise<PostResponseDto> {
    const denial = { action: dto.authorId === undefined ? `change post ${id}` : `give post ${id} to user ${dto.authorId}`, resource: `Post ${id}` };
    // A new author must be a live user: the database checks it in the UPDATE.
    const row = await this.posts
      .update(id, (post) => {
        enforce(PostsPolicy.write(actor, { ...post, deletedAt: null }, dto.authorId), denial);
        return definedValues<PostChanges>(dto);
      })
      .catch(answerDeadReferences({ authorId: () => missingAuthor(dto.authorId!) }));
    if (!row) enforce('hidden', denial);
    return withEntityTag(toPostResponse(row!), row!);
  }

  async remove(actor: Actor | undefined, id: number): Promise<void> {
    const denial = { action: `delete post ${id}`, resource: `Post ${id}` };
    if (!(await this.posts.remove(id, (post) => enforce(PostsPolicy.write(actor, post), denial)))) enforce('hidden', denial);
  }

  /** A post deleted on its own comes back; while its author is deleted the cascade rules refuse (409). */
  async restore(actor: Actor | undefined, id: number): Promise<PostResponseDto> {
    const post = await this.posts.lockForWrite(id, true);
    enforce(post ? PostsPolicy.write(actor, post) : 'hidden', { action: `restore post ${id}`, resource: `Post ${id}` });
    if (post!.deletedAt !== null) await this.posts.restore(id, post!.deletedAt);
    return this.findOne(actor, id);
  }

  /**
   * PUT /posts/:id/tags: the post's tags become exactly these names (found, or created), in the request's one
   * transaction; who may change the post may change its tags.
   */
  async replaceTags(actor: Actor | undefined, id: number, dto: ReplacePostTagsDto): Promise<PostTagsResponseDto> {
    const post = await this.posts.lockForWrite(id, false);
    enforce(post ? PostsPolicy.write(actor, post) : 'hidden', { action: `change the tags of post ${id}`, resource: `Post ${id}` });
    // Before any tag is created: a refused condition costs nothing.
    this.postTags.assertReplaceable(id);
    const tags = await this.tags.findOrCreate(dto.tags);
    await this.postTags.replace(id, tags.map((tag) => tag.id));
    return { data: tags.map(toTagSummary).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
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
    const visible = PostsPolicy.readableSql(actor, { published: 'p.published', author: 'p."authorId"' }, 3);
    if (options.published !== undefined) {
      visible.bind.push(options.published);
      visible.sql += ` AND p.published = $${visible.bind.length + 2}`;
    }
    for (const row of await this.posts.latestByAuthors(authorIds, options.limit, visible)) {
      const entry = byAuthor.get(row.ownerId)!;
      entry.postCount = row.postCount;
      if (row.id !== null) entry.posts.push(toPostResponse(row));
    }
    return byAuthor;
  }

  topAuthors(limit: number): Promise<Array<{ id: number; name: string; postCount: number }>> {
    return this.posts.topAuthors(limit);
  }

  /**
   * 404 unless a live post with this id exists and the actor may see it (a draft: its author and admins only): for
   * the modules whose rows belong to a post. With `lock`, the post stays share-locked until the request's transaction
   * ends, so it cannot be deleted under a row being written.
   */
  async assertVisible(actor: Actor | undefined, id: number, options: { lock?: boolean } = {}): Promise<void> {
    const post = options.lock ? await this.posts.lockLiveFacts(id) : await this.posts.findLive(id, false);
    if (!post || !PostsPolicy.canRead(actor, post)) throw new NotFoundException(`Post ${id} not found`);
  }
}

/** The author is named in the body: one that is not a live user is a 422. */
function missingAuthor(authorId: number): never {
  throw new UnprocessableEntityException(`Author ${authorId} does not exist`);
}

/** The fields a PATCH actually sets; `undefined` means "leave as is". */
function definedValues<T extends object>(dto: object): T {
  return Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined)) as T;
}
