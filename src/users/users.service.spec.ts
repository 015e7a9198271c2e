import { BadRequestException, ConflictException, ForbiddenException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import type { Actor } from '../common/access/actor';
import { UniqueConstraintError } from 'sequelize';
import type { PostResponseDto } from '../posts/dto/post-response.dto';
import { Paginator } from '../common/pagination/paginator';
import { UsersService } from './users.service';
import { toUserResponse } from './dto/user-response.dto';
import type { ListUsersQueryDto } from './dto/user-query.dto';
import type { UserPostsQueryDto } from '../posts/dto/post-query.dto';

const created = new Date('2026-11-01T10:00:00.000Z');
const row = (id: number, extra: Record<string, unknown> = {}) => ({
  id,
  name: `User ${id}`,
  email: `u${id}@example.com`,
  role: 'user' as const,
  createdAt: created,
  updatedAt: created,
  version: 0,
  ...extra,
});
const post = (id: number, authorId: number) => ({ id, authorId, title: 't', body: 'b', published: false }) as unknown as PostResponseDto;

function setup() {
  // UsersRepository, with what each method answers when nothing matches.
  const users = {
    create: jest.fn(),
    findLive: jest.fn().mockResolvedValue(null),
    findWithPasswordByEmail: jest.fn().mockResolvedValue(null),
    passwordHash: jest.fn().mockResolvedValue(null),
    exists: jest.fn().mockResolvedValue(false),
    page: jest.fn().mockResolvedValue({ rows: [], total: 0, last: null }),
    update: jest.fn().mockResolvedValue(null),
    remove: jest.fn().mockResolvedValue(false),
    lockAny: jest.fn().mockResolvedValue(null),
    restore: jest.fn().mockResolvedValue(false),
    upsertByEmail: jest.fn(),
  };
  const posts = { latestByAuthors: jest.fn(), findAll: jest.fn(), topAuthors: jest.fn() };
  const sessions = { revokeAllForUser: jest.fn().mockResolvedValue(undefined) };
  const passwords = { hash: jest.fn(async (password: string) => `hash(${password})`), verify: jest.fn() };
  const service = new UsersService(users as never, posts as never, sessions as never, passwords as never, new Paginator('a test secret'));
  return { service, users, posts, sessions, passwords };
}

/** Every repository method that writes. */
function writes(users: ReturnType<typeof setup>['users']) {
  return [users.create, users.update, users.remove, users.restore, users.upsertByEmail];
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
      users.page.mockResolvedValue({ rows: [row(1), row(2), row(3)], total: 9, last: null });
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
      expect(page.meta).toEqual({ total: 9, limit: 20, offset: 0, nextCursor: null });
      expect(page.data.map((user) => [user.id, user.postCount, user.posts?.map((p) => p.id)])).toEqual([
        [1, 4, [10, 11]],
        [2, 0, []],
        [3, 1, [12]],
      ]);
    });

    it('embeds fewer posts per user by default on long pages, and postsLimit when given', async () => {
      const { service, users, posts } = setup();
      users.page.mockResolvedValue({ rows: [row(1)], total: 1, last: null });
      posts.latestByAuthors.mockResolvedValue(new Map([[1, { postCount: 0, posts: [] }]]));
      await service.findAll(admin, query({ include: 'posts', limit: 100 }));
      expect(posts.latestByAuthors).toHaveBeenLastCalledWith(admin, [1], { limit: 2, published: undefined });
      await service.findAll(admin, query({ include: 'posts', limit: 100, postsLimit: 3 }));
      expect(posts.latestByAuthors).toHaveBeenLastCalledWith(admin, [1], { limit: 3, published: undefined });
    });

    it('does not look up posts without include, and sorts with the id tie-breaker', async () => {
      const { service, users, posts } = setup();
      users.page.mockResolvedValue({ rows: [row(1)], total: 1, last: null });
      const page = await service.findAll(undefined, query({ sort: 'name', limit: 5, offset: 10 }));
      expect(posts.latestByAuthors).not.toHaveBeenCalled();
      expect(page.data[0]).not.toHaveProperty('posts');
      expect(page.data[0]).not.toHaveProperty('postCount');
      expect(users.page).toHaveBeenCalledWith(
        expect.anything(),
        expect.objectContaining({
          order: [
            ['name', 'ASC'],
            ['id', 'ASC'],
          ],
          limit: 5,
          offset: 10,
          after: null,
          withTotal: true,
        }),
      );
    });

    it('passes the role and email filters to the repository', async () => {
      const { service, users } = setup();
      await service.findAll(admin, query({ role: 'admin', email: 'X@Y.io' }));
      expect(users.page).toHaveBeenCalledWith({ role: 'admin', email: 'X@Y.io' }, expect.anything());
    });

    it('hides the emails of other users from the page', async () => {
      const { service, users } = setup();
      users.page.mockResolvedValue({ rows: [row(1), row(2)], total: 2, last: null });
      const page = await service.findAll(self(2), query());
      expect(page.data.map((user) => user.email)).toEqual([undefined, 'u2@example.com']);
    });

    it.each([
      ['anonymous', undefined],
      ['a user', self(1)],
    ])('refuses the email filter and the email sort to %s (403) before any query', async (_who, actor) => {
      const { service, users } = setup();
      await expect(service.findAll(actor, query({ email: 'x@y.io' }))).rejects.toBeInstanceOf(ForbiddenException);
      await expect(service.findAll(actor, query({ sort: 'name,-email' }))).rejects.toBeInstanceOf(ForbiddenException);
      expect(users.page).not.toHaveBeenCalled();
    });
  });

  describe('findOne', () => {
    it('404 when there is no live user', async () => {
      const { service, users } = setup();
      await expect(service.findOne(admin, 4)).rejects.toBeInstanceOf(NotFoundException);
      expect(users.findLive).toHaveBeenCalledWith(4, {});
    });

    it('embeds the latest posts with include=posts (10 by default, postsLimit when given), and nothing without', async () => {
      const { service, users, posts } = setup();
      users.findLive.mockResolvedValue(row(4));
      posts.latestByAuthors.mockResolvedValue(new Map([[4, { postCount: 7, posts: [post(20, 4)] }]]));

      await expect(service.findOne(self(5), 4, { include: 'posts' })).resolves.toEqual({
        ...toUserResponse(row(4), self(5)),
        postCount: 7,
        posts: [post(20, 4)],
      });
      expect(posts.latestByAuthors).toHaveBeenLastCalledWith(self(5), [4], { limit: 10, published: undefined });
      await service.findOne(admin, 4, { include: 'posts', postsLimit: 3, published: false });
      expect(posts.latestByAuthors).toHaveBeenLastCalledWith(admin, [4], { limit: 3, published: false });

      posts.latestByAuthors.mockClear();
      await expect(service.findOne(admin, 4)).resolves.toEqual(toUserResponse(row(4), admin));
      expect(posts.latestByAuthors).not.toHaveBeenCalled();
    });
  });

  describe('findPosts', () => {
    it("404 for a missing user rather than an empty page; otherwise that user's posts", async () => {
      const { service, users, posts } = setup();
      const postsQuery = { limit: 20, offset: 0, sort: '-createdAt' } as UserPostsQueryDto;
      await expect(service.findPosts(admin, 4, postsQuery)).rejects.toBeInstanceOf(NotFoundException);
      expect(posts.findAll).not.toHaveBeenCalled();

      users.exists.mockResolvedValue(true);
      const page = { data: [post(1, 4)], meta: { total: 1, limit: 20, offset: 0 } };
      posts.findAll.mockResolvedValue(page);
      await expect(service.findPosts(self(3), 4, postsQuery)).resolves.toBe(page);
      expect(posts.findAll).toHaveBeenCalledWith(self(3), { ...postsQuery, authorId: 4 });
    });
  });

  describe('update', () => {
    it('an empty patch goes through the repository with no changes (the locked row answers, If-Match is checked)', async () => {
      const { service, users, sessions } = setup();
      users.update.mockResolvedValue({ row: row(4), previousRole: 'user' });
      await expect(service.update(admin, 4, {})).resolves.toEqual(toUserResponse(row(4), admin));
      expect(users.update).toHaveBeenCalledWith(4, {});
      expect(users.findLive).not.toHaveBeenCalled();
      expect(sessions.revokeAllForUser).not.toHaveBeenCalled();
    });

    it('an empty patch of a missing user is a 404', async () => {
      const { service } = setup();
      await expect(service.update(admin, 4, {})).rejects.toBeInstanceOf(NotFoundException);
    });

    it('writes only the fields sent, and answers with the stored row', async () => {
      const { service, users, sessions } = setup();
      users.update.mockResolvedValue({ row: row(4, { email: 'ada@example.com' }), previousRole: 'user' });
      await expect(service.update(self(4), 4, { email: '  Ada@Example.COM ' })).resolves.toEqual(
        toUserResponse(row(4, { email: 'ada@example.com' }), self(4)),
      );
      expect(users.update).toHaveBeenCalledTimes(1);
      expect(users.update.mock.calls[0][0]).toBe(4);
      expect(users.update.mock.calls[0][1]).toStrictEqual({ email: '  Ada@Example.COM ' });
      expect(sessions.revokeAllForUser).not.toHaveBeenCalled();
    });

    it('404 when no live row was updated', async () => {
      const { service, sessions } = setup();
      await expect(service.update(admin, 4, { name: 'New name' })).rejects.toBeInstanceOf(NotFoundException);
      expect(sessions.revokeAllForUser).not.toHaveBeenCalled();
    });

    it('lets a taken email through untouched for the exception filter (409), with the sessions left alone', async () => {
      const { service, users, sessions } = setup();
      const taken = new UniqueConstraintError({});
      users.update.mockRejectedValue(taken);
      await expect(service.update(self(4), 4, { email: 'taken@example.com' })).rejects.toBe(taken);
      expect(sessions.revokeAllForUser).not.toHaveBeenCalled();
    });

    it('401 for anonymous, 403 for another user or a role change by the user, before any query', async () => {
      const { service, users, passwords } = setup();
      await expect(service.update(undefined, 4, { name: 'New name' })).rejects.toBeInstanceOf(UnauthorizedException);
      await expect(service.update(self(5), 4, { name: 'New name' })).rejects.toBeInstanceOf(ForbiddenException);
      await expect(service.update(self(4), 4, { role: 'admin' })).rejects.toBeInstanceOf(ForbiddenException);
      await expect(service.update(self(5), 4, { password: 'new password 123', currentPassword: 'x' })).rejects.toBeInstanceOf(ForbiddenException);
      for (const method of [...writes(users), users.findLive, users.passwordHash]) expect(method).not.toHaveBeenCalled();
      expect(passwords.hash).not.toHaveBeenCalled();
      expect(passwords.verify).not.toHaveBeenCalled();
    });

    it('lets an admin change a role', async () => {
      const { service, users } = setup();
      users.update.mockResolvedValue({ row: row(4, { role: 'admin' }), previousRole: 'user' });
      await expect(service.update(admin, 4, { role: 'admin' })).resolves.toMatchObject({ id: 4, role: 'admin' });
      expect(users.update.mock.calls[0][1]).toStrictEqual({ role: 'admin' });
    });

    it('ends the sessions when the role actually changes, not when it is sent unchanged', async () => {
      const { service, users, sessions } = setup();
      users.update.mockResolvedValueOnce({ row: row(4, { role: 'admin' }), previousRole: 'user' });
      await service.update(admin, 4, { role: 'admin' });
      expect(sessions.revokeAllForUser).toHaveBeenCalledWith(4);
      sessions.revokeAllForUser.mockClear();
      users.update.mockResolvedValueOnce({ row: row(4, { role: 'admin', name: 'Same role' }), previousRole: 'admin' });
      await service.update(admin, 4, { role: 'admin', name: 'Same role' });
      expect(sessions.revokeAllForUser).not.toHaveBeenCalled();
    });

    describe('password', () => {
      it('own password: needs the current one, stores a new hash, ends every session of the user', async () => {
        const { service, users, sessions, passwords } = setup();
        users.passwordHash.mockResolvedValue('stored');
        users.update.mockResolvedValue({ row: row(4), previousRole: 'user' });
        passwords.verify.mockResolvedValue(true);
        await service.update(self(4), 4, { password: 'new password 123', currentPassword: 'old password 123' });
        expect(users.passwordHash).toHaveBeenCalledWith(4);
        expect(passwords.verify).toHaveBeenCalledWith('stored', 'old password 123');
        expect(users.update).toHaveBeenCalledTimes(1);
        expect(users.update.mock.calls[0][1]).toStrictEqual({ passwordHash: 'hash(new password 123)' });
        expect(sessions.revokeAllForUser).toHaveBeenCalledWith(4);
      });

      it('own password: 400 without currentPassword, 403 with a wrong one, nothing written', async () => {
        const { service, users, sessions, passwords } = setup();
        await expect(service.update(self(4), 4, { password: 'new password 123' })).rejects.toBeInstanceOf(BadRequestException);
        users.passwordHash.mockResolvedValue('stored');
        passwords.verify.mockResolvedValue(false);
        await expect(service.update(self(4), 4, { password: 'new password 123', currentPassword: 'wrong' })).rejects.toBeInstanceOf(ForbiddenException);
        expect(passwords.verify).toHaveBeenCalledWith('stored', 'wrong');
        expect(passwords.hash).not.toHaveBeenCalled();
        expect(users.update).not.toHaveBeenCalled();
        expect(sessions.revokeAllForUser).not.toHaveBeenCalled();
      });

      it("an admin resets another user's password without theirs, and the user's sessions end", async () => {
        const { service, users, sessions, passwords } = setup();
        users.update.mockResolvedValue({ row: row(4), previousRole: 'user' });
        await service.update(admin, 4, { password: 'reset password 1' });
        expect(passwords.verify).not.toHaveBeenCalled();
        expect(users.passwordHash).not.toHaveBeenCalled();
        expect(users.update.mock.calls[0][1]).toStrictEqual({ passwordHash: 'hash(reset password 1)' });
        expect(sessions.revokeAllForUser).toHaveBeenCalledWith(4);
      });

      it('currentPassword alone is a 400, nothing written', async () => {
        const { service, users } = setup();
        await expect(service.update(self(4), 4, { currentPassword: 'x' })).rejects.toBeInstanceOf(BadRequestException);
        await expect(service.update(self(4), 4, { name: 'New name', currentPassword: 'x' })).rejects.toBeInstanceOf(BadRequestException);
        expect(users.update).not.toHaveBeenCalled();
        expect(users.findLive).not.toHaveBeenCalled();
      });
    });
  });

  describe('remove', () => {
    it('soft-deletes the user themselves', async () => {
      const { service, users } = setup();
      users.remove.mockResolvedValue(true);
      await expect(service.remove(self(5), 5)).resolves.toBeUndefined();
      expect(users.remove).toHaveBeenCalledWith(5);
    });

    it("ends the deleted user's sessions", async () => {
      const { service, users, sessions } = setup();
      users.remove.mockResolvedValue(true);
      await service.remove(admin, 5);
      expect(users.remove).toHaveBeenCalledWith(5);
      expect(sessions.revokeAllForUser).toHaveBeenCalledWith(5);
    });

    it('404 when there is no live user, and no sessions are touched', async () => {
      const { service, sessions } = setup();
      await expect(service.remove(admin, 5)).rejects.toBeInstanceOf(NotFoundException);
      expect(sessions.revokeAllForUser).not.toHaveBeenCalled();
    });

    it('401 for anonymous, 403 for another user, before anything is written', async () => {
      const { service, users, sessions } = setup();
      await expect(service.remove(undefined, 5)).rejects.toBeInstanceOf(UnauthorizedException);
      await expect(service.remove(self(6), 5)).rejects.toBeInstanceOf(ForbiddenException);
      expect(users.remove).not.toHaveBeenCalled();
      expect(sessions.revokeAllForUser).not.toHaveBeenCalled();
    });
  });

  describe('restore', () => {
    const deletedAt = new Date('2026-11-20T00:00:00.123Z');

    it("restores the user deleted at its own deletedAt (which brings back what was deleted with it)", async () => {
      const { service, users } = setup();
      users.lockAny.mockResolvedValue(row(6, { deletedAt }));
      users.restore.mockResolvedValue(true);
      await expect(service.restore(admin, 6)).resolves.toEqual(toUserResponse(row(6), admin));
      expect(users.lockAny).toHaveBeenCalledWith(6);
      expect(users.restore).toHaveBeenCalledWith(6, deletedAt);
    });

    it('404 when the id never existed', async () => {
      const { service, users } = setup();
      await expect(service.restore(admin, 6)).rejects.toBeInstanceOf(NotFoundException);
      expect(users.restore).not.toHaveBeenCalled();
    });

    it('401 for anonymous, 403 for a non-admin even on their own account, before any query', async () => {
      const { service, users } = setup();
      await expect(service.restore(undefined, 6)).rejects.toBeInstanceOf(UnauthorizedException);
      await expect(service.restore(self(6), 6)).rejects.toBeInstanceOf(ForbiddenException);
      expect(users.lockAny).not.toHaveBeenCalled();
      expect(users.restore).not.toHaveBeenCalled();
    });

    it('returns a live user unchanged', async () => {
      const { service, users } = setup();
      users.lockAny.mockResolvedValue(row(6, { deletedAt: null }));
      await expect(service.restore(admin, 6)).resolves.toEqual(toUserResponse(row(6), admin));
      expect(users.restore).not.toHaveBeenCalled();
    });

    it('409 naming the email when another live user took it', async () => {
      const { service, users } = setup();
      users.lockAny.mockResolvedValue(row(6, { deletedAt }));
      users.restore.mockRejectedValue(new UniqueConstraintError({}));
      await expect(service.restore(admin, 6)).rejects.toThrow(ConflictException);
      await expect(service.restore(admin, 6)).rejects.toThrow(/u6@example\.com/);
    });

    it('rethrows any other failure untouched', async () => {
      const { service, users } = setup();
      const failure = new Error('connection lost');
      users.lockAny.mockResolvedValue(row(6, { deletedAt }));
      users.restore.mockRejectedValue(failure);
      await expect(service.restore(admin, 6)).rejects.toBe(failure);
    });
  });
});
