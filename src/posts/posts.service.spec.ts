import { ConflictException, ForbiddenException, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { Op } from 'sequelize';
import type { Actor } from '../common/access/actor';
import { PostsService } from './posts.service';
import type { ListPostsQueryDto } from './dto/post-query.dto';

const at = new Date('2026-11-02T08:30:00.000Z');
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

function setup() {
  const posts = {
    count: jest.fn().mockResolvedValue(0),
    findAll: jest.fn().mockResolvedValue([]),
    findByPk: jest.fn().mockResolvedValue(null),
    update: jest.fn().mockResolvedValue([0, []]),
    create: jest.fn(),
    destroy: jest.fn(),
    scope: jest.fn(),
  };
  posts.scope.mockReturnValue(posts);
  const sequelize = { transaction: jest.fn((_options: object, work: () => Promise<unknown>) => work()), query: jest.fn().mockResolvedValue([]) };
  const service = new PostsService(posts as never, sequelize as never);
  return { service, posts, sequelize };
}

const admin: Actor = { id: 100, role: 'admin', sessionId: '00000000-0000-4000-8000-000000000100' };
const user = (id: number): Actor => ({ id, role: 'user', sessionId: '00000000-0000-4000-8000-000000000001' });

describe('PostsService', () => {
  describe('latestByAuthors', () => {
    it('groups rows by author with their counts, keeping the query order; an author without posts gets 0 and []', async () => {
      const { service, sequelize } = setup();
      const empty = { ownerId: 7, postCount: 0, id: null };
      sequelize.query.mockResolvedValue([
        { ...row(3, 1), ownerId: 1, postCount: 5 },
        { ...row(1, 1), ownerId: 1, postCount: 5 },
        { ...row(2, 2), ownerId: 2, postCount: 1 },
        empty,
      ]);
      const byAuthor = await service.latestByAuthors(admin, [1, 2, 7], { limit: 2, published: false });
      const [sql, options] = sequelize.query.mock.calls[0];
      // Admins see every live post: no visibility condition and no actor bound, only the published filter.
      expect(options.bind).toEqual([[1, 2, 7], 2, false]);
      expect(sql).toContain('p.published = $3');
      expect([...byAuthor.entries()].map(([id, entry]) => [id, entry.postCount, entry.posts.map((p) => p.id)])).toEqual([
        [1, 5, [3, 1]],
        [2, 1, [2]],
        [7, 0, []],
      ]);
      expect(byAuthor.get(1)?.posts[0]).toEqual({ ...row(3, 1), createdAt: at.toISOString(), updatedAt: at.toISOString() });
    });

    it("binds a user's id so their own drafts count, and shows anonymous callers published posts only", async () => {
      const { service, sequelize } = setup();
      await service.latestByAuthors(user(4), [4, 5], { limit: 10 });
      expect(sequelize.query.mock.calls[0][1].bind).toEqual([[4, 5], 10, 4]);
      expect(sequelize.query.mock.calls[0][0]).toContain('(p.published OR p."authorId" = $3)');
      await service.latestByAuthors(undefined, [4], { limit: 10 });
      expect(sequelize.query.mock.calls[1][1].bind).toEqual([[4], 10]);
      expect(sequelize.query.mock.calls[1][0]).toContain('AND p.published');
    });

    it('runs no query for an empty page', async () => {
      const { service, sequelize } = setup();
      expect((await service.latestByAuthors(admin, [], { limit: 10 })).size).toBe(0);
      expect(sequelize.query).not.toHaveBeenCalled();
    });
  });

  describe('findAll', () => {
    it('combines the filters as scopes and counts with the same filters', async () => {
      const { service, posts } = setup();
      posts.count.mockResolvedValue(1);
      posts.findAll.mockResolvedValue([row(1, 4)]);
      const query = { limit: 5, offset: 10, sort: '-title', authorId: 4, published: true, q: '50%' } as ListPostsQueryDto;
      const page = await service.findAll(admin, query);
      expect(posts.scope).toHaveBeenCalledWith([{ method: ['byAuthor', 4] }, 'published', { method: ['matching', '50%'] }]);
      expect(posts.findAll.mock.calls[0][0]).toMatchObject({ limit: 5, offset: 10, order: [['title', 'DESC'], ['id', 'DESC']] });
      expect(page.meta).toEqual({ total: 1, limit: 5, offset: 10 });
    });

    it('uses the unscoped model when there is no filter', async () => {
      const { service, posts } = setup();
      await service.findAll(admin, { limit: 20, offset: 0, sort: '-createdAt' } as ListPostsQueryDto);
      expect(posts.scope).not.toHaveBeenCalled();
    });

    it('adds what the caller may see to both the count and the page: published for anonymous, own drafts for a user', async () => {
      const { service, posts } = setup();
      await service.findAll(undefined, { limit: 20, offset: 0, sort: '-createdAt' } as ListPostsQueryDto);
      expect(posts.count.mock.calls[0][0].where).toEqual({ published: true });
      expect(posts.findAll.mock.calls[0][0].where).toEqual({ published: true });
      await service.findAll(user(3), { limit: 20, offset: 0, sort: '-createdAt' } as ListPostsQueryDto);
      expect(posts.findAll.mock.calls[1][0].where).toEqual({ [Op.or]: [{ published: true }, { authorId: 3 }] });
    });
  });

  describe('author checks', () => {
    it('422 on create when the author is not a live user, and nothing is inserted', async () => {
      const { service, sequelize } = setup();
      // The INSERT … WHERE EXISTS (live author) inserted no row.
      sequelize.query.mockResolvedValue(null);
      await expect(service.create(admin, { title: 't', body: 'b', authorId: 3 })).rejects.toBeInstanceOf(UnprocessableEntityException);
      expect(sequelize.query).toHaveBeenCalledTimes(1);
      // Bound, not interpolated, and locking the author row against a concurrent delete.
      expect(sequelize.query.mock.calls[0][0]).toMatch(/INSERT INTO posts[\s\S]*EXISTS \(SELECT 1 FROM users WHERE id = \$4::int AND "deletedAt" IS NULL FOR SHARE\)/);
      expect(sequelize.query.mock.calls[0][1]).toMatchObject({ bind: ['t', 'b', false, 3, expect.any(Date)], plain: true });
    });

    it('the author defaults to the caller; a user naming another author is a 403 before any query', async () => {
      const { service, sequelize } = setup();
      sequelize.query.mockResolvedValue(row(1, 3));
      await service.create(user(3), { title: 't', body: 'b' });
      expect(sequelize.query.mock.calls[0][1].bind[3]).toBe(3);
      await expect(service.create(user(3), { title: 't', body: 'b', authorId: 4 })).rejects.toBeInstanceOf(ForbiddenException);
      expect(sequelize.query).toHaveBeenCalledTimes(1);
    });

    it('409 on restore while the author is deleted', async () => {
      const { service, posts } = setup();
      posts.findByPk.mockResolvedValue({ authorId: 3, published: true, deletedAt: at });
      await expect(service.restore(admin, 8)).rejects.toBeInstanceOf(ConflictException);
      expect(posts.update).not.toHaveBeenCalled();
    });

    it("someone else's post: 403 when published, 404 when a draft or deleted; nothing written", async () => {
      const { service, posts } = setup();
      posts.findByPk.mockResolvedValueOnce({ authorId: 3, published: true, deletedAt: null });
      await expect(service.update(user(4), 8, { title: 'Mine now' })).rejects.toBeInstanceOf(ForbiddenException);
      posts.findByPk.mockResolvedValueOnce({ authorId: 3, published: false, deletedAt: null });
      await expect(service.remove(user(4), 8)).rejects.toBeInstanceOf(NotFoundException);
      posts.findByPk.mockResolvedValueOnce({ authorId: 3, published: true, deletedAt: at });
      await expect(service.restore(user(4), 8)).rejects.toBeInstanceOf(NotFoundException);
      expect(posts.update).not.toHaveBeenCalled();
      expect(posts.destroy).not.toHaveBeenCalled();
      // The row is read with a lock, so the decision holds until the request's transaction ends.
      expect(posts.findByPk.mock.calls[0][1]).toMatchObject({ lock: 'UPDATE' });
    });

    it('the author may not give the post away (403); an admin may', async () => {
      const { service, posts } = setup();
      posts.findByPk.mockResolvedValue({ authorId: 3, published: true, deletedAt: null });
      await expect(service.update(user(3), 8, { authorId: 4 })).rejects.toBeInstanceOf(ForbiddenException);
      expect(posts.update).not.toHaveBeenCalled();
    });

    it('checks the author on update only when it changes', async () => {
      const { service, posts, sequelize } = setup();
      posts.findByPk.mockResolvedValue({ authorId: 3, published: false, deletedAt: null });
      posts.update.mockResolvedValue([1, [{ get: () => row(8, 3, { title: 'New' }) }]]);
      await expect(service.update(user(3), 8, { title: 'New' })).resolves.toMatchObject({ title: 'New' });
      expect(sequelize.query).not.toHaveBeenCalled();
      expect(posts.update.mock.calls[0][0]).toEqual({ title: 'New' });
    });
  });
});
