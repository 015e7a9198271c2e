import { ConflictException, UnprocessableEntityException } from '@nestjs/common';
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
  const sequelize = { transaction: jest.fn((work: () => Promise<unknown>) => work()), query: jest.fn().mockResolvedValue([]) };
  const service = new PostsService(posts as never, sequelize as never);
  return { service, posts, sequelize };
}

describe('PostsService', () => {
  describe('findByAuthors', () => {
    it('groups rows by author, keeping the query order, with [] for authors without posts', async () => {
      const { service, posts } = setup();
      posts.findAll.mockResolvedValue([row(3, 1), row(2, 2), row(1, 1)]);
      const byAuthor = await service.findByAuthors([1, 2, 7], false);
      expect(posts.scope).toHaveBeenCalledWith([{ method: ['byAuthors', [1, 2, 7]] }, 'drafts']);
      expect([...byAuthor.entries()].map(([id, list]) => [id, list.map((p) => p.id)])).toEqual([
        [1, [3, 1]],
        [2, [2]],
        [7, []],
      ]);
      expect(byAuthor.get(1)?.[0]).toEqual({ ...row(3, 1), createdAt: at.toISOString(), updatedAt: at.toISOString() });
    });

    it('runs no query for an empty page', async () => {
      const { service, posts } = setup();
      expect((await service.findByAuthors([])).size).toBe(0);
      expect(posts.findAll).not.toHaveBeenCalled();
    });
  });

  describe('findAll', () => {
    it('combines the filters as scopes and counts with the same filters', async () => {
      const { service, posts } = setup();
      posts.count.mockResolvedValue(1);
      posts.findAll.mockResolvedValue([row(1, 4)]);
      const query = { limit: 5, offset: 10, sort: '-title', authorId: 4, published: true, q: '50%' } as ListPostsQueryDto;
      const page = await service.findAll(query);
      expect(posts.scope).toHaveBeenCalledWith([{ method: ['byAuthor', 4] }, 'published', { method: ['matching', '50%'] }]);
      expect(posts.findAll.mock.calls[0][0]).toMatchObject({ limit: 5, offset: 10, order: [['title', 'DESC'], ['id', 'DESC']] });
      expect(page.meta).toEqual({ total: 1, limit: 5, offset: 10 });
    });

    it('uses the unscoped model when there is no filter', async () => {
      const { service, posts } = setup();
      await service.findAll({ limit: 20, offset: 0, sort: '-createdAt' } as ListPostsQueryDto);
      expect(posts.scope).not.toHaveBeenCalled();
    });
  });

  describe('author checks', () => {
    it('422 on create when the author is not a live user, and nothing is inserted', async () => {
      const { service, sequelize } = setup();
      // The INSERT … WHERE EXISTS (live author) inserted no row.
      sequelize.query.mockResolvedValue(null);
      await expect(service.create({ title: 't', body: 'b', authorId: 3 })).rejects.toBeInstanceOf(UnprocessableEntityException);
      expect(sequelize.query).toHaveBeenCalledTimes(1);
      // Bound, not interpolated, and locking the author row against a concurrent delete.
      expect(sequelize.query.mock.calls[0][0]).toMatch(/INSERT INTO posts[\s\S]*EXISTS \(SELECT 1 FROM users WHERE id = \$4::int AND "deletedAt" IS NULL FOR SHARE\)/);
      expect(sequelize.query.mock.calls[0][1]).toMatchObject({ bind: ['t', 'b', false, 3, expect.any(Date)], plain: true });
    });

    it('409 on restore while the author is deleted', async () => {
      const { service, posts } = setup();
      posts.findByPk.mockResolvedValue({ authorId: 3, deletedAt: at });
      await expect(service.restore(8)).rejects.toBeInstanceOf(ConflictException);
      expect(posts.update).not.toHaveBeenCalled();
    });

    it('checks the author on update only when it changes', async () => {
      const { service, posts, sequelize } = setup();
      posts.update.mockResolvedValue([1, [{ get: () => row(8, 3, { title: 'New' }) }]]);
      await expect(service.update(8, { title: 'New' })).resolves.toMatchObject({ title: 'New' });
      expect(sequelize.query).not.toHaveBeenCalled();
      expect(posts.update.mock.calls[0][0]).toEqual({ title: 'New' });
    });
  });
});
