import { BadRequestException, ConflictException, ForbiddenException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import type { Actor } from '../common/access/actor';
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
    latestByAuthors: jest.fn(),
    softDeleteByAuthor: jest.fn().mockResolvedValue(undefined),
    restoreByAuthor: jest.fn().mockResolvedValue(undefined),
    findAll: jest.fn(),
  };
  const sessions = { revokeAllForUser: jest.fn().mockResolvedValue(undefined) };
  const passwords = { hash: jest.fn(async (password: string) => `hash(${password})`), verify: jest.fn() };
  const sequelize = { transaction: jest.fn((_options: object, work: () => Promise<unknown>) => work()), query: jest.fn() };
  const service = new UsersService(users as never, posts as never, sessions as never, passwords as never, sequelize as never);
  return { service, users, posts, sessions, passwords, sequelize };
}

const admin: Actor = { id: 100, role: 'admin', sessionId: '00000000-0000-4000-8000-000000000100' };
const self = (id: number): Actor => ({ id, role: 'user', sessionId: '00000000-0000-4000-8000-000000000001' });

const query = (extra: Partial<ListUsersQueryDto> = {}) =>
  ({ limit: 20, offset: 0, sort: '-createdAt', ...extra }) as ListUsersQueryDto;

describe('toUserResponse', () => {
  it('keeps the public fields only and writes ISO timestamps', () => {
    const response = toUserResponse({ ...row(1), deletedAt: null, password: 'x', passwordHash: '$argon2id$' } as never, admin);
    expect(response).toEqual({
      id: 1,
      name: 'User 1',
      email: 'u1@example.com',
      role: 'user',
      createdAt: '2026-11-01T10:00:00.000Z',
      updatedAt: '2026-11-01T10:00:00.000Z',
    });
  });

  it('shows the email to the user themselves and to admins only', () => {
    expect(toUserResponse(row(1), admin)).toHaveProperty('email', 'u1@example.com');
    expect(toUserResponse(row(1), self(1))).toHaveProperty('email', 'u1@example.com');
    expect(toUserResponse(row(1), self(2))).not.toHaveProperty('email');
    expect(toUserResponse(row(1), undefined)).not.toHaveProperty('email');
  });
});

describe('UsersService', () => {
  describe('findAll', () => {
    it('embeds posts per user with one lookup for the whole page, [] for users without', async () => {
      const { service, users, posts } = setup();
      users.count.mockResolvedValue(9);
      users.findAll.mockResolvedValue([row(1), row(2), row(3)]);
      posts.latestByAuthors.mockResolvedValue(
        new Map([
          [1, { postCount: 4, posts: [post(10, 1), post(11, 1)] }],
          [2, { postCount: 0, posts: [] }],
          [3, { postCount: 1, posts: [post(12, 3)] }],
        ]),
      );

      const page = await service.findAll(admin, query({ include: 'posts', published: true }));

      expect(posts.latestByAuthors).toHaveBeenCalledTimes(1);
      expect(posts.latestByAuthors).toHaveBeenCalledWith(admin, [1, 2, 3], { limit: 10, published: true });
      expect(page.meta).toEqual({ total: 9, limit: 20, offset: 0 });
      expect(page.data.map((user) => [user.postCount, user.posts?.map((p) => p.id)])).toEqual([[4, [10, 11]], [0, []], [1, [12]]]);
    });

    it('embeds fewer posts per user by default on long pages, and postsLimit when given', async () => {
      const { service, users, posts } = setup();
      users.findAll.mockResolvedValue([row(1)]);
      posts.latestByAuthors.mockResolvedValue(new Map([[1, { postCount: 0, posts: [] }]]));
      await service.findAll(admin, query({ include: 'posts', limit: 100 }));
      expect(posts.latestByAuthors).toHaveBeenLastCalledWith(admin, [1], { limit: 2, published: undefined });
      await service.findAll(admin, query({ include: 'posts', limit: 100, postsLimit: 3 }));
      expect(posts.latestByAuthors).toHaveBeenLastCalledWith(admin, [1], { limit: 3, published: undefined });
    });

    it('does not look up posts without include, and sorts with the id tie-breaker', async () => {
      const { service, users, posts } = setup();
      users.findAll.mockResolvedValue([row(1)]);
      const page = await service.findAll(undefined, query({ sort: 'name' }));
      expect(posts.latestByAuthors).not.toHaveBeenCalled();
      expect(page.data[0]).not.toHaveProperty('posts');
      expect(users.findAll.mock.calls[0][0].order).toEqual([
        ['name', 'ASC'],
        ['id', 'ASC'],
      ]);
    });

    it('applies the role and email filters as model scopes', async () => {
      const { service, users } = setup();
      await service.findAll(admin, query({ role: 'admin', email: 'X@Y.io' }));
      expect(users.scope).toHaveBeenCalledWith([{ method: ['withRole', 'admin'] }, { method: ['withEmail', 'X@Y.io'] }]);
    });

    it.each([
      ['anonymous', undefined],
      ['a user', self(1)],
    ])('refuses the email filter and the email sort to %s (403) before any query', async (_who, actor) => {
      const { service, users } = setup();
      await expect(service.findAll(actor, query({ email: 'x@y.io' }))).rejects.toBeInstanceOf(ForbiddenException);
      await expect(service.findAll(actor, query({ sort: 'name,-email' }))).rejects.toBeInstanceOf(ForbiddenException);
      expect(users.count).not.toHaveBeenCalled();
    });
  });

  describe('update', () => {
    it('an empty patch reads the user instead of writing', async () => {
      const { service, sequelize } = setup();
      readUser.mockResolvedValueOnce([row(4)]);
      await expect(service.update(admin, 4, {})).resolves.toMatchObject({ id: 4 });
      expect(sequelize.query).not.toHaveBeenCalled();
      expect(readUser).toHaveBeenCalledTimes(1);
      expect(readUser.mock.calls[0][1]).toMatch(/^SELECT .* FROM users WHERE id = \$1 AND "deletedAt" IS NULL$/);
      expect(readUser.mock.calls[0][2]).toEqual([4]);
    });

    it('one bound UPDATE of the live row: email normalised as the model hook does, null for the fields left out', async () => {
      const { service, sequelize, sessions } = setup();
      sequelize.query.mockResolvedValue(row(4, { email: 'ada@example.com', previousRole: 'user' }));
      await expect(service.update(self(4), 4, { email: '  Ada@Example.COM ' })).resolves.toMatchObject({ id: 4, email: 'ada@example.com' });
      const [sql, options] = sequelize.query.mock.calls[0];
      expect(sql).toMatch(/UPDATE users u SET[\s\S]*FOR UPDATE\) previous[\s\S]*RETURNING/);
      expect(sql).toMatch(/WHERE id = \$1 AND "deletedAt" IS NULL FOR UPDATE/);
      expect(options.bind).toEqual([4, null, 'ada@example.com', null, null, expect.any(Date)]);
      expect(sessions.revokeAllForUser).not.toHaveBeenCalled();
    });

    it('404 when no live row was updated', async () => {
      const { service } = setup();
      await expect(service.update(admin, 4, { name: 'New name' })).rejects.toBeInstanceOf(NotFoundException);
    });

    it('401 for anonymous, 403 for another user or a role change by the user, before any query', async () => {
      const { service, sequelize } = setup();
      await expect(service.update(undefined, 4, { name: 'New name' })).rejects.toBeInstanceOf(UnauthorizedException);
      await expect(service.update(self(5), 4, { name: 'New name' })).rejects.toBeInstanceOf(ForbiddenException);
      await expect(service.update(self(4), 4, { role: 'admin' })).rejects.toBeInstanceOf(ForbiddenException);
      expect(sequelize.query).not.toHaveBeenCalled();
    });

    it('ends the sessions when the role actually changes, not when it is sent unchanged', async () => {
      const { service, sequelize, sessions } = setup();
      sequelize.query.mockResolvedValueOnce(row(4, { role: 'admin', previousRole: 'user' }));
      await service.update(admin, 4, { role: 'admin' });
      expect(sessions.revokeAllForUser).toHaveBeenCalledWith(4);
      sessions.revokeAllForUser.mockClear();
      sequelize.query.mockResolvedValueOnce(row(4, { role: 'admin', previousRole: 'admin' }));
      await service.update(admin, 4, { role: 'admin', name: 'Same role' });
      expect(sessions.revokeAllForUser).not.toHaveBeenCalled();
    });

    describe('password', () => {
      it('own password: needs the current one, stores a new hash, ends every session of the user', async () => {
        const { service, sequelize, sessions, passwords } = setup();
        sequelize.query.mockResolvedValueOnce({ passwordHash: 'stored' }).mockResolvedValueOnce(row(4, { previousRole: 'user' }));
        passwords.verify.mockResolvedValue(true);
        await service.update(self(4), 4, { password: 'new password 123', currentPassword: 'old password 123' });
        expect(passwords.verify).toHaveBeenCalledWith('stored', 'old password 123');
        expect(sequelize.query.mock.calls[1][1].bind[4]).toBe('hash(new password 123)');
        expect(sessions.revokeAllForUser).toHaveBeenCalledWith(4);
      });

      it('own password: 400 without currentPassword, 403 with a wrong one, nothing written', async () => {
        const { service, sequelize, passwords } = setup();
        await expect(service.update(self(4), 4, { password: 'new password 123' })).rejects.toBeInstanceOf(BadRequestException);
        sequelize.query.mockResolvedValueOnce({ passwordHash: 'stored' });
        passwords.verify.mockResolvedValue(false);
        await expect(service.update(self(4), 4, { password: 'new password 123', currentPassword: 'wrong' })).rejects.toBeInstanceOf(ForbiddenException);
        expect(sequelize.query).toHaveBeenCalledTimes(1);
        expect(passwords.hash).not.toHaveBeenCalled();
      });

      it("an admin resets another user's password without theirs", async () => {
        const { service, sequelize, passwords } = setup();
        sequelize.query.mockResolvedValueOnce(row(4, { previousRole: 'user' }));
        await service.update(admin, 4, { password: 'reset password 1' });
        expect(passwords.verify).not.toHaveBeenCalled();
        expect(sequelize.query.mock.calls[0][1].bind[4]).toBe('hash(reset password 1)');
      });

      it('currentPassword alone is a 400', async () => {
        const { service } = setup();
        await expect(service.update(self(4), 4, { currentPassword: 'x' })).rejects.toBeInstanceOf(BadRequestException);
      });
    });
  });

  describe('remove', () => {
    it('stamps the user and its posts with the same deletedAt, inside a transaction', async () => {
      const { service, users, posts, sequelize } = setup();
      users.update.mockResolvedValue([1]);
      await service.remove(self(5), 5);
      expect(sequelize.transaction).toHaveBeenCalledTimes(1);
      const deletedAt = users.update.mock.calls[0][0].deletedAt;
      expect(deletedAt).toBeInstanceOf(Date);
      expect(posts.softDeleteByAuthor).toHaveBeenCalledWith(5, deletedAt);
    });

    it("ends the deleted user's sessions", async () => {
      const { service, users, sessions } = setup();
      users.update.mockResolvedValue([1]);
      await service.remove(admin, 5);
      expect(sessions.revokeAllForUser).toHaveBeenCalledWith(5);
    });

    it('404 without touching posts when there is no live user', async () => {
      const { service, posts } = setup();
      await expect(service.remove(admin, 5)).rejects.toBeInstanceOf(NotFoundException);
      expect(posts.softDeleteByAuthor).not.toHaveBeenCalled();
    });

    it('403 for another user, before anything is written', async () => {
      const { service, users } = setup();
      await expect(service.remove(self(6), 5)).rejects.toBeInstanceOf(ForbiddenException);
      expect(users.update).not.toHaveBeenCalled();
    });
  });

  describe('restore', () => {
    const deletedAt = new Date('2026-11-20T00:00:00.123Z');

    it('restores the posts that carry the user\'s deletedAt', async () => {
      const { service, users, posts } = setup();
      users.findByPk.mockResolvedValue(row(6, { deletedAt }));
      users.update.mockResolvedValue([1]);
      await expect(service.restore(admin, 6)).resolves.toMatchObject({ id: 6 });
      expect(users.update.mock.calls[0][1].where).toEqual({ id: 6, deletedAt });
      expect(posts.restoreByAuthor).toHaveBeenCalledWith(6, deletedAt);
    });

    it('404 when the id never existed', async () => {
      const { service } = setup();
      await expect(service.restore(admin, 6)).rejects.toBeInstanceOf(NotFoundException);
    });

    it('403 for a non-admin, even on their own account', async () => {
      const { service, users } = setup();
      await expect(service.restore(self(6), 6)).rejects.toBeInstanceOf(ForbiddenException);
      expect(users.findByPk).not.toHaveBeenCalled();
    });

    it('returns a live user unchanged', async () => {
      const { service, users, posts } = setup();
      users.findByPk.mockResolvedValue(row(6, { deletedAt: null }));
      await expect(service.restore(admin, 6)).resolves.toEqual(toUserResponse(row(6), admin));
      expect(users.update).not.toHaveBeenCalled();
      expect(posts.restoreByAuthor).not.toHaveBeenCalled();
    });

    it('409 naming the email when another live user took it, and the posts stay deleted', async () => {
      const { service, users, posts } = setup();
      users.findByPk.mockResolvedValue(row(6, { deletedAt }));
      users.update.mockRejectedValue(new UniqueConstraintError({}));
      await expect(service.restore(admin, 6)).rejects.toThrow(ConflictException);
      await expect(service.restore(admin, 6)).rejects.toThrow(/u6@example\.com/);
      expect(posts.restoreByAuthor).not.toHaveBeenCalled();
    });
  });
});
