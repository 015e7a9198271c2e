import { ConflictException, NotFoundException } from '@nestjs/common';
import { UniqueConstraintError } from 'sequelize';
import { pooledSelect } from '../common/database/pooled-select';
import type { PostResponseDto } from '../posts/dto/post-response.dto';
import { UsersService } from './users.service';
import { toUserResponse } from './dto/user-response.dto';
import type { ListUsersQueryDto } from './dto/user-query.dto';

jest.mock('../common/database/pooled-select');
const readUser = jest.mocked(pooledSelect);
beforeEach(() => readUser.mockReset());

const created = new Date('2026-11-01T10:00:00.000Z');
const row = (id: number, extra: Record<string, unknown> = {}) => ({
  id,
  name: `User ${id}`,
  email: `u${id}@example.com`,
  role: 'user' as const,
  createdAt: created,
  updatedAt: created,
  ...extra,
});
const post = (id: number, authorId: number) => ({ id, authorId, title: 't', body: 'b', published: false }) as unknown as PostResponseDto;

function setup() {
  const users = {
    count: jest.fn().mockResolvedValue(0),
    findAll: jest.fn().mockResolvedValue([]),
    findByPk: jest.fn().mockResolvedValue(null),
    update: jest.fn().mockResolvedValue([0, []]),
    create: jest.fn(),
    scope: jest.fn(),
  };
  users.scope.mockReturnValue(users);
  const posts = {
    findByAuthors: jest.fn(),
    softDeleteByAuthor: jest.fn().mockResolvedValue(undefined),
    restoreByAuthor: jest.fn().mockResolvedValue(undefined),
    findAll: jest.fn(),
  };
  const sequelize = { transaction: jest.fn((work: () => Promise<unknown>) => work()), query: jest.fn() };
  const service = new UsersService(users as never, posts as never, sequelize as never);
  return { service, users, posts, sequelize };
}

const query = (extra: Partial<ListUsersQueryDto> = {}) =>
  ({ limit: 20, offset: 0, sort: '-createdAt', ...extra }) as ListUsersQueryDto;

describe('toUserResponse', () => {
  it('keeps the public fields only and writes ISO timestamps', () => {
    const response = toUserResponse({ ...row(1), deletedAt: null, password: 'x' } as never);
    expect(response).toEqual({
      id: 1,
      name: 'User 1',
      email: 'u1@example.com',
      role: 'user',
      createdAt: '2026-11-01T10:00:00.000Z',
      updatedAt: '2026-11-01T10:00:00.000Z',
    });
  });
});

describe('UsersService', () => {
  describe('findAll', () => {
    it('embeds posts per user with one lookup for the whole page, [] for users without', async () => {
      const { service, users, posts } = setup();
      users.count.mockResolvedValue(9);
      users.findAll.mockResolvedValue([row(1), row(2), row(3)]);
      posts.findByAuthors.mockResolvedValue(
        new Map([
          [1, [post(10, 1), post(11, 1)]],
          [3, [post(12, 3)]],
        ]),
      );

      const page = await service.findAll(query({ include: 'posts', published: true }));

      expect(posts.findByAuthors).toHaveBeenCalledTimes(1);
      expect(posts.findByAuthors).toHaveBeenCalledWith([1, 2, 3], true);
      expect(page.meta).toEqual({ total: 9, limit: 20, offset: 0 });
      expect(page.data.map((user) => user.posts?.map((p) => p.id))).toEqual([[10, 11], [], [12]]);
    });

    it('does not look up posts without include, and sorts with the id tie-breaker', async () => {
      const { service, users, posts } = setup();
      users.findAll.mockResolvedValue([row(1)]);
      const page = await service.findAll(query({ sort: 'name' }));
      expect(posts.findByAuthors).not.toHaveBeenCalled();
      expect(page.data[0]).not.toHaveProperty('posts');
      expect(users.findAll.mock.calls[0][0].order).toEqual([
        ['name', 'ASC'],
        ['id', 'ASC'],
      ]);
    });

    it('applies the role and email filters as model scopes', async () => {
      const { service, users } = setup();
      await service.findAll(query({ role: 'admin', email: 'X@Y.io' }));
      expect(users.scope).toHaveBeenCalledWith([{ method: ['withRole', 'admin'] }, { method: ['withEmail', 'X@Y.io'] }]);
    });
  });

  describe('update', () => {
    it('an empty patch reads the user instead of writing', async () => {
      const { service, sequelize } = setup();
      readUser.mockResolvedValueOnce([row(4)]);
      await expect(service.update(4, {})).resolves.toMatchObject({ id: 4 });
      expect(sequelize.query).not.toHaveBeenCalled();
      expect(readUser).toHaveBeenCalledTimes(1);
      expect(readUser.mock.calls[0][1]).toMatch(/^SELECT .* FROM users WHERE id = \$1 AND "deletedAt" IS NULL$/);
      expect(readUser.mock.calls[0][2]).toEqual([4]);
    });

    it('one bound UPDATE of the live row: email normalised as the model hook does, null for the fields left out', async () => {
      const { service, sequelize } = setup();
      sequelize.query.mockResolvedValue(row(4, { email: 'ada@example.com' }));
      await expect(service.update(4, { email: '  Ada@Example.COM ' })).resolves.toMatchObject({ id: 4, email: 'ada@example.com' });
      const [sql, options] = sequelize.query.mock.calls[0];
      expect(sql).toMatch(/UPDATE users SET[\s\S]*WHERE id = \$1 AND "deletedAt" IS NULL[\s\S]*RETURNING/);
      expect(options.bind).toEqual([4, null, 'ada@example.com', null, expect.any(Date)]);
    });

    it('404 when no live row was updated', async () => {
      const { service } = setup();
      await expect(service.update(4, { name: 'New name' })).rejects.toBeInstanceOf(NotFoundException);
    });
  });

  describe('remove', () => {
    it('stamps the user and its posts with the same deletedAt, inside a transaction', async () => {
      const { service, users, posts, sequelize } = setup();
      users.update.mockResolvedValue([1]);
      await service.remove(5);
      expect(sequelize.transaction).toHaveBeenCalledTimes(1);
      const deletedAt = users.update.mock.calls[0][0].deletedAt;
      expect(deletedAt).toBeInstanceOf(Date);
      expect(posts.softDeleteByAuthor).toHaveBeenCalledWith(5, deletedAt);
    });

    it('404 without touching posts when there is no live user', async () => {
      const { service, posts } = setup();
      await expect(service.remove(5)).rejects.toBeInstanceOf(NotFoundException);
      expect(posts.softDeleteByAuthor).not.toHaveBeenCalled();
    });
  });

  describe('restore', () => {
    const deletedAt = new Date('2026-11-20T00:00:00.123Z');

    it('restores the posts that carry the user\'s deletedAt', async () => {
      const { service, users, posts } = setup();
      users.findByPk.mockResolvedValue(row(6, { deletedAt }));
      users.update.mockResolvedValue([1]);
      await expect(service.restore(6)).resolves.toMatchObject({ id: 6 });
      expect(users.update.mock.calls[0][1].where).toEqual({ id: 6, deletedAt });
      expect(posts.restoreByAuthor).toHaveBeenCalledWith(6, deletedAt);
    });

    it('404 when the id never existed', async () => {
      const { service } = setup();
      await expect(service.restore(6)).rejects.toBeInstanceOf(NotFoundException);
    });

    it('returns a live user unchanged', async () => {
      const { service, users, posts } = setup();
      users.findByPk.mockResolvedValue(row(6, { deletedAt: null }));
      await expect(service.restore(6)).resolves.toEqual(toUserResponse(row(6)));
      expect(users.update).not.toHaveBeenCalled();
      expect(posts.restoreByAuthor).not.toHaveBeenCalled();
    });

    it('409 naming the email when another live user took it, and the posts stay deleted', async () => {
      const { service, users, posts } = setup();
      users.findByPk.mockResolvedValue(row(6, { deletedAt }));
      users.update.mockRejectedValue(new UniqueConstraintError({}));
      await expect(service.restore(6)).rejects.toThrow(ConflictException);
      await expect(service.restore(6)).rejects.toThrow(/u6@example\.com/);
      expect(posts.restoreByAuthor).not.toHaveBeenCalled();
    });
  });
});
