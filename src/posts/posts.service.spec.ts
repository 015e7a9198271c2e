import { ConflictException, ForbiddenException, NotFoundException, PreconditionFailedException, UnauthorizedException, UnprocessableEntityException } from '@nestjs/common';
import { ForeignKeyConstraintError, Op } from 'sequelize';
import { DeadReferenceError } from '../common/database/dead-reference';
import type { Actor } from '../common/access/actor';
import { Paginator } from '../common/pagination/paginator';
import { PostsService } from './posts.service';
import type { ListPostsQueryDto } from './dto/post-query.dto';

const at = new Date('2026-11-02T08:30:00.000Z');
const iso = at.toISOString();
const row = (id: number, authorId: number, extra: Record<string, unknown> = {}) => ({
  id,
  authorId,
  title: `Post ${id}`,
  body: 'Body',
  published: false,
  createdAt: at,
  updatedAt: at,
  ...extra,
});
const response = (id: number, authorId: number, extra: Record<string, unknown> = {}) => ({ ...row(id, authorId, extra), createdAt: iso, updatedAt: iso });
const author = (id: number) => ({ id, name: `User ${id}`, email: `u${id}@example.com`, role: 'user' as const, createdAt: at, updatedAt: at });

/** The database's refusal of a dead author, as PostsRepository passes it on. */
function deadAuthor(): DeadReferenceError {
  const parent = Object.assign(new Error('refused'), { constraint: 'posts_author_id_live', column: 'authorId' });
  return DeadReferenceError.from(new ForeignKeyConstraintError({ message: 'refused', parent: parent as never }))!;
}

function setup() {
  // The repositories the service uses, with what each answers when nothing matches.
  const posts = {
    create: jest.fn(),
    createMany: jest.fn().mockResolvedValue([]),
    page: jest.fn().mockResolvedValue({ rows: [], total: 0, last: null }),
    findLive: jest.fn().mockResolvedValue(null),
    lockForWrite: jest.fn().mockResolvedValue(null),
    update: jest.fn().mockResolvedValue(null),
    remove: jest.fn().mockResolvedValue(false),
    restore: jest.fn().mockResolvedValue(false),
    deletedAt: jest.fn().mockResolvedValue(null),
    latestByAuthors: jest.fn().mockResolvedValue([]),
    topAuthors: jest.fn().mockResolvedValue([]),
  };
  const tags = { findLiveByName: jest.fn().mockResolvedValue(null), findOrCreate: jest.fn().mockResolvedValue([]) };
  const postTags = { assertReplaceable: jest.fn(), replace: jest.fn().mockResolvedValue(undefined), postsWithTag: jest.fn((id: number) => `posts with tag ${id}`) };
  const service = new PostsService(posts as never, tags as never, postTags as never, new Paginator('a test secret'));
  return { service, posts, tags, postTags };
}

/**
 * PostsRepository.update as it behaves: the live row `stored` (null: none) goes to the service's `decide`, and what that
 * returns is written (recorded in `written`, non-empty changes only) and merged into the answer.
 */
/** PostsRepository.remove as it behaves: the live post's facts (null: none) go to `decide`, then it is deleted. */
function removablePost(posts: ReturnType<typeof setup>['posts'], facts: { authorId: number; published: boolean } | null) {
  const removed: number[] = [];
  posts.remove.mockImplementation(async (id: number, decide: (post: object) => void) => {
    if (!facts) return false;
    decide({ ...facts, deletedAt: null });
    removed.push(id);
    return true;
  });
  return removed;
}

function storedPost(posts: ReturnType<typeof setup>['posts'], stored: ReturnType<typeof row> | null) {
  const written: Array<[number, Record<string, unknown>]> = [];
  posts.update.mockImplementation(async (id: number, decide: (post: ReturnType<typeof row>) => Record<string, unknown>) => {
    if (!stored) return null;
    const changes = decide(stored);
    if (Object.keys(changes).length > 0) written.push([id, changes]);
    return { ...stored, ...changes };
  });
  return written;
}

const admin: Actor = { id: 100, role: 'admin', sessionId: '00000000-0000-4000-8000-000000000100' };
const user = (id: number): Actor => ({ id, role: 'user', sessionId: '00000000-0000-4000-8000-000000000001' });
const list = (extra: Partial<ListPostsQueryDto> = {}) => ({ limit: 20, offset: 0, sort: '-createdAt', ...extra }) as ListPostsQueryDto;

describe('PostsService', () => {
  describe('latestByAuthors', () => {
    it('groups rows by author with their counts, keeping the query order; an author without posts gets 0 and []', async () => {
      const { service, posts } = setup();
      const empty = { ownerId: 7, postCount: 0, id: null };
      posts.latestByAuthors.mockResolvedValue([
        { ...row(3, 1), ownerId: 1, postCount: 5 },
        { ...row(1, 1), ownerId: 1, postCount: 5 },
        { ...row(2, 2), ownerId: 2, postCount: 1 },
        empty,
      ]);
      const byAuthor = await service.latestByAuthors(admin, [1, 2, 7], { limit: 2, published: false });
      expect(posts.latestByAuthors).toHaveBeenCalledTimes(1);
      const [authorIds, limit, visible] = posts.latestByAuthors.mock.calls[0];
      expect(authorIds).toEqual([1, 2, 7]);
      expect(limit).toBe(2);
      // Admins see every live post: no actor bound, only the published filter (after $1 authors and $2 limit).
      expect(visible.bind).toEqual([false]);
      expect(visible.sql).toContain('p.published = $3');
      expect(visible.sql).not.toContain('"authorId"');
      expect([...byAuthor.entries()].map(([id, entry]) => [id, entry.postCount, entry.posts.map((p) => p.id)])).toEqual([
        [1, 5, [3, 1]],
        [2, 1, [2]],
        [7, 0, []],
      ]);
      expect(byAuthor.get(1)?.posts[0]).toEqual(response(3, 1));
    });

    it('answers 0 and [] for an author the query returned nothing for', async () => {
      const { service } = setup();
      const byAuthor = await service.latestByAuthors(admin, [4], { limit: 2 });
      expect(byAuthor.get(4)).toEqual({ postCount: 0, posts: [] });
    });

    it("binds a user's id so their own drafts count, and shows anonymous callers published posts only", async () => {
      const { service, posts } = setup();
      await service.latestByAuthors(user(4), [4, 5], { limit: 10 });
      expect(posts.latestByAuthors.mock.calls[0].slice(0, 2)).toEqual([[4, 5], 10]);
      expect(posts.latestByAuthors.mock.calls[0][2]).toEqual({ sql: '(p.published OR p."authorId" = $3)', bind: [4] });
      await service.latestByAuthors(undefined, [4], { limit: 10 });
      expect(posts.latestByAuthors.mock.calls[1][2]).toEqual({ sql: 'p.published', bind: [] });
    });

    it("numbers the published filter after the user's id", async () => {
      const { service, posts } = setup();
      await service.latestByAuthors(user(4), [4], { limit: 10, published: true });
      const visible = posts.latestByAuthors.mock.calls[0][2];
      expect(visible.bind).toEqual([4, true]);
      expect(visible.sql).toContain('p."authorId" = $3');
      expect(visible.sql).toContain('p.published = $4');
    });

    it('runs no query for an empty page', async () => {
      const { service, posts } = setup();
      expect((await service.latestByAuthors(admin, [], { limit: 10 })).size).toBe(0);
      expect(posts.latestByAuthors).not.toHaveBeenCalled();
    });
  });

  describe('findAll', () => {
    it('passes the filters and the window (sorted with the id tie-breaker) to the repository', async () => {
      const { service, posts } = setup();
      posts.page.mockResolvedValue({ rows: [row(1, 4, { published: true })], total: 1, last: null });
      const page = await service.findAll(admin, list({ limit: 5, offset: 10, sort: '-title', authorId: 4, published: true, q: '50%' }));
      expect(posts.page).toHaveBeenCalledWith(
        { authorId: 4, published: true, q: '50%', readable: undefined },
        expect.objectContaining({ order: [['title', 'DESC'], ['id', 'DESC']], limit: 5, offset: 10, after: null, withTotal: true }),
        false,
      );
      expect(page).toEqual({ data: [response(1, 4, { published: true })], meta: { total: 1, limit: 5, offset: 10, nextCursor: null } });
    });

    it('adds what the caller may see: everything for admins, published for anonymous, own drafts for a user', async () => {
      const { service, posts } = setup();
      await service.findAll(admin, list());
      expect(posts.page.mock.calls[0][0].readable).toBeUndefined();
      await service.findAll(undefined, list());
      expect(posts.page.mock.calls[1][0].readable).toEqual({ published: true });
      await service.findAll(user(3), list());
      expect(posts.page.mock.calls[2][0].readable).toEqual({ [Op.or]: [{ published: true }, { authorId: 3 }] });
    });

    it('embeds the author with include=author, its email shown only to itself and admins', async () => {
      const { service, posts } = setup();
      posts.page.mockResolvedValue({ rows: [{ ...row(1, 4, { published: true }), author: author(4) }], total: 1, last: null });
      const page = await service.findAll(user(5), list({ include: 'author' }));
      expect(posts.page.mock.calls[0][2]).toBe(true);
      expect(page.data[0]).toEqual({ ...response(1, 4, { published: true }), author: { id: 4, name: 'User 4', role: 'user', createdAt: iso, updatedAt: iso } });
      expect((await service.findAll(user(4), list({ include: 'author' }))).data[0].author).toHaveProperty('email', 'u4@example.com');
    });
  });

  describe('findOne', () => {
    it("404 for a missing post and for someone else's draft; the author sees their draft", async () => {
      const { service, posts } = setup();
      await expect(service.findOne(admin, 8)).rejects.toBeInstanceOf(NotFoundException);
      posts.findLive.mockResolvedValue(row(8, 3));
      await expect(service.findOne(user(4), 8)).rejects.toBeInstanceOf(NotFoundException);
      await expect(service.findOne(undefined, 8)).rejects.toBeInstanceOf(NotFoundException);
      await expect(service.findOne(user(3), 8)).resolves.toEqual(response(8, 3));
      await expect(service.findOne(admin, 8)).resolves.toEqual(response(8, 3));
    });

    it('embeds the author with include=author', async () => {
      const { service, posts } = setup();
      posts.findLive.mockResolvedValue({ ...row(8, 3, { published: true }), author: author(3) });
      const post = await service.findOne(undefined, 8, 'author');
      expect(posts.findLive).toHaveBeenCalledWith(8, true);
      expect(post.author).toEqual({ id: 3, name: 'User 3', role: 'user', createdAt: iso, updatedAt: iso });
    });
  });

  describe('author checks', () => {
    it('422 naming the author when the database refuses a dead author, on create and on update', async () => {
      const { service, posts } = setup();
      posts.create.mockRejectedValue(deadAuthor());
      await expect(service.create(admin, { title: 't', body: 'b', authorId: 3 })).rejects.toThrow(new UnprocessableEntityException('Author 3 does not exist'));
      expect(posts.create).toHaveBeenCalledTimes(1);
      posts.update.mockRejectedValue(deadAuthor());
      await expect(service.update(admin, 8, { authorId: 4 })).rejects.toThrow(new UnprocessableEntityException('Author 4 does not exist'));
    });

    it('the author defaults to the caller; a user naming another author is a 403 before any query', async () => {
      const { service, posts } = setup();
      posts.create.mockResolvedValue(row(1, 3));
      await expect(service.create(user(3), { title: 't', body: 'b' })).resolves.toEqual(response(1, 3));
      expect(posts.create).toHaveBeenCalledWith({ title: 't', body: 'b', published: false, authorId: 3 });
      await expect(service.create(user(3), { title: 't', body: 'b', authorId: 4 })).rejects.toBeInstanceOf(ForbiddenException);
      await expect(service.create(undefined, { title: 't', body: 'b' })).rejects.toBeInstanceOf(UnauthorizedException);
      expect(posts.create).toHaveBeenCalledTimes(1);
    });

    it('an admin writes under another live author', async () => {
      const { service, posts } = setup();
      posts.create.mockResolvedValue(row(1, 3, { published: true }));
      await service.create(admin, { title: 't', body: 'b', published: true, authorId: 3 });
      expect(posts.create).toHaveBeenCalledWith({ title: 't', body: 'b', published: true, authorId: 3 });
    });

    it('409 on restore while the author is deleted, from the cascade rules', async () => {
      const { service, posts } = setup();
      posts.lockForWrite.mockResolvedValue({ authorId: 3, published: true, deletedAt: at });
      posts.restore.mockRejectedValue(new ConflictException('Author 3 is deleted: restore the author first'));
      await expect(service.restore(admin, 8)).rejects.toBeInstanceOf(ConflictException);
      expect(posts.lockForWrite).toHaveBeenCalledWith(8, true);
      expect(posts.restore).toHaveBeenCalledWith(8, at);
      expect(posts.findLive).not.toHaveBeenCalled();
    });

    it("someone else's post: 403 when published, 404 when a draft or deleted; nothing written", async () => {
      const { service, posts } = setup();
      const written = storedPost(posts, row(8, 3, { published: true }));
      await expect(service.update(user(4), 8, { title: 'Mine now' })).rejects.toBeInstanceOf(ForbiddenException);
      storedPost(posts, row(8, 3, { published: false }));
      await expect(service.update(user(4), 8, { title: 'Mine now' })).rejects.toBeInstanceOf(NotFoundException);
      const removed = removablePost(posts, { authorId: 3, published: true });
      await expect(service.remove(user(4), 8)).rejects.toBeInstanceOf(ForbiddenException);
      removablePost(posts, { authorId: 3, published: false });
      await expect(service.remove(user(4), 8)).rejects.toBeInstanceOf(NotFoundException);
      posts.lockForWrite.mockResolvedValueOnce({ authorId: 3, published: true, deletedAt: at });
      await expect(service.restore(user(4), 8)).rejects.toBeInstanceOf(NotFoundException);
      expect(written).toEqual([]);
      expect(removed).toEqual([]);
      expect(posts.restore).not.toHaveBeenCalled();
      // The decision is made on the row locked for the request: live rows for update and delete, any for restore.
      expect(posts.update.mock.calls.map(([id]) => id)).toEqual([8, 8]);
      expect(posts.remove.mock.calls.map(([id]) => id)).toEqual([8, 8]);
      expect(posts.lockForWrite.mock.calls).toEqual([[8, true]]);
    });

    it('401 for anonymous writes, 404 for a post that does not exist; nothing written', async () => {
      const { service, posts } = setup();
      const written = storedPost(posts, row(8, 3, { published: true }));
      await expect(service.update(undefined, 8, { title: 'x' })).rejects.toBeInstanceOf(UnauthorizedException);
      storedPost(posts, null);
      await expect(service.update(admin, 9, { title: 'x' })).rejects.toBeInstanceOf(NotFoundException);
      await expect(service.remove(admin, 9)).rejects.toBeInstanceOf(NotFoundException);
      await expect(service.restore(admin, 9)).rejects.toBeInstanceOf(NotFoundException);
      expect(written).toEqual([]);
      expect(posts.restore).not.toHaveBeenCalled();
    });

    // Whether the new author is live is the database's check (PostsRepository.update: 422), made in the UPDATE.
    it('the author may not give the post away (403); an admin may', async () => {
      const { service, posts } = setup();
      const written = storedPost(posts, row(8, 3, { published: true }));
      await expect(service.update(user(3), 8, { authorId: 4 })).rejects.toBeInstanceOf(ForbiddenException);
      expect(written).toEqual([]);

      await expect(service.update(admin, 8, { authorId: 4 })).resolves.toEqual(response(8, 4, { published: true }));
      expect(written).toEqual([[8, { authorId: 4 }]]);
    });

    it('writes only the fields sent', async () => {
      const { service, posts } = setup();
      const written = storedPost(posts, row(8, 3));
      await expect(service.update(user(3), 8, { title: 'New', body: undefined })).resolves.toEqual(response(8, 3, { title: 'New' }));
      expect(written).toStrictEqual([[8, { title: 'New' }]]);
    });
  });

  describe('update', () => {
    it('a PATCH with no fields answers the current post without writing or reading it again', async () => {
      const { service, posts } = setup();
      const written = storedPost(posts, row(8, 3));
      await expect(service.update(user(3), 8, {})).resolves.toEqual(response(8, 3));
      await expect(service.update(user(3), 8, { title: undefined })).resolves.toEqual(response(8, 3));
      expect(written).toEqual([]);
      expect(posts.findLive).not.toHaveBeenCalled();
    });

    it('404 when there is no live post to lock', async () => {
      const { service, posts } = setup();
      storedPost(posts, null);
      await expect(service.update(admin, 8, { title: 'New' })).rejects.toBeInstanceOf(NotFoundException);
    });
  });

  describe('remove', () => {
    it('soft-deletes the post for its author, 404 when nothing was deleted', async () => {
      const { service, posts } = setup();
      const removed = removablePost(posts, { authorId: 3, published: false });
      await expect(service.remove(user(3), 8)).resolves.toBeUndefined();
      expect(removed).toEqual([8]);
      removablePost(posts, null);
      await expect(service.remove(user(3), 8)).rejects.toBeInstanceOf(NotFoundException);
    });
  });

  describe('restore', () => {
    it("brings back a post at its own deletedAt and answers with it; a live post is returned unchanged", async () => {
      const { service, posts } = setup();
      posts.findLive.mockResolvedValue(row(8, 3));
      posts.lockForWrite.mockResolvedValueOnce({ authorId: 3, published: false, deletedAt: at });
      posts.restore.mockResolvedValueOnce(true);
      await expect(service.restore(user(3), 8)).resolves.toEqual(response(8, 3));
      expect(posts.restore).toHaveBeenCalledWith(8, at);

      posts.lockForWrite.mockResolvedValueOnce({ authorId: 3, published: false, deletedAt: null });
      await expect(service.restore(user(3), 8)).resolves.toEqual(response(8, 3));
      expect(posts.restore).toHaveBeenCalledTimes(1);
    });
  });

  describe('createManyForAuthor', () => {
    it('writes every post under the author, unpublished unless said otherwise, in one call', async () => {
      const { service, posts } = setup();
      posts.createMany.mockResolvedValue([row(1, 7, { title: 'A' }), row(2, 7, { title: 'B', published: true })]);
      const created = await service.createManyForAuthor(7, [{ title: 'A', body: 'a' }, { title: 'B', body: 'b', published: true }]);
      expect(posts.createMany).toHaveBeenCalledTimes(1);
      expect(posts.createMany).toHaveBeenCalledWith([
        { title: 'A', body: 'a', published: false, authorId: 7 },
        { title: 'B', body: 'b', published: true, authorId: 7 },
      ]);
      expect(created).toEqual([response(1, 7, { title: 'A' }), response(2, 7, { title: 'B', published: true })]);
    });
  });

  it('topAuthors answers what the repository reports', async () => {
    const { service, posts } = setup();
    posts.topAuthors.mockResolvedValue([{ id: 2, name: 'User 2', postCount: 3 }]);
    await expect(service.topAuthors(5)).resolves.toEqual([{ id: 2, name: 'User 2', postCount: 3 }]);
    expect(posts.topAuthors).toHaveBeenCalledWith(5);
  });
});

describe('PostsService tags', () => {
  const author: Actor = { id: 7, role: 'user', sessionId: '00000000-0000-4000-8000-000000000007' };
  const facts = { authorId: 7, published: true, deletedAt: null };

  it('filters by a tag through its posts subquery; an unknown tag is an empty page without a posts query', async () => {
    const { service, posts, tags } = setup();
    const query = { limit: 20, offset: 0, sort: '-createdAt', tag: 'NestJS' } as ListPostsQueryDto;
    await expect(service.findAll(undefined, query)).resolves.toEqual({ data: [], meta: { total: 0, limit: 20, offset: 0, nextCursor: null } });
    expect(posts.page).not.toHaveBeenCalled();
    tags.findLiveByName.mockResolvedValue({ id: 3, name: 'nestjs' });
    posts.page.mockResolvedValue({ rows: [], total: 0, last: null });
    await service.findAll(undefined, query);
    expect(tags.findLiveByName).toHaveBeenLastCalledWith('NestJS');
    expect(posts.page.mock.calls[0][0]).toMatchObject({ idIn: 'posts with tag 3', readable: { published: true } });
  });

  it('replaces the tags of a post its author may change, sorted by name; 403 and 404 before any tag is touched', async () => {
    const { service, posts, tags, postTags } = setup();
    posts.lockForWrite.mockResolvedValue(facts);
    tags.findOrCreate.mockResolvedValue([{ id: 2, name: 'zod' }, { id: 1, name: 'api' }]);
    await expect(service.replaceTags(author, 5, { tags: ['Zod', 'api'] })).resolves.toEqual({ data: [{ id: 1, name: 'api' }, { id: 2, name: 'zod' }] });
    expect(postTags.replace).toHaveBeenCalledWith(5, [2, 1]);

    const stranger: Actor = { ...author, id: 8 };
    await expect(service.replaceTags(stranger, 5, { tags: ['x'] })).rejects.toThrow(ForbiddenException);
    posts.lockForWrite.mockResolvedValue(null);
    await expect(service.replaceTags(author, 6, { tags: ['x'] })).rejects.toThrow(NotFoundException);
    expect(tags.findOrCreate).toHaveBeenCalledTimes(1);
  });

  it('a refused If-Match (the set of tags has no version) is checked before any tag is made', async () => {
    const { service, posts, tags, postTags } = setup();
    posts.lockForWrite.mockResolvedValue(facts);
    postTags.assertReplaceable.mockImplementation(() => {
      throw new PreconditionFailedException('Tags of post 5 has no entity tag: If-Match can only be *');
    });
    await expect(service.replaceTags(author, 5, { tags: ['new'] })).rejects.toThrow(PreconditionFailedException);
    expect(postTags.assertReplaceable).toHaveBeenCalledWith(5);
    expect(tags.findOrCreate).not.toHaveBeenCalled();
    expect(postTags.replace).not.toHaveBeenCalled();
  });
});
