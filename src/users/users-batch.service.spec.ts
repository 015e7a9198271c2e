import { BadRequestException, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import type { Actor } from '../common/access/actor';
import { AggregateError, BulkRecordError, UniqueConstraintError, ValidationError, ValidationErrorItem } from 'sequelize';
import { PostsRepository } from '../posts/posts.repository';
import { PostsService } from '../posts/posts.service';
import { UsersBatchService } from './users-batch.service';
import { UsersRepository } from './users.repository';

const at = new Date('2026-11-01T10:00:00.000Z');
const iso = at.toISOString();
const userRow = (id: number, name: string, email: string, role: 'user' | 'admin' = 'user') => ({ id, name, email, role, createdAt: at, updatedAt: at });
const postRow = (id: number, authorId: number, title: string, body: string, published = false) => ({
  id,
  authorId,
  title,
  body,
  published,
  createdAt: at,
  updatedAt: at,
});

function setup() {
  const users = { create: jest.fn(), upsertByEmail: jest.fn() };
  const posts = { createMany: jest.fn().mockResolvedValue([]) };
  const passwords = { hash: jest.fn(async (password: string) => `hash(${password})`) };
  // The real PostsService over a mocked PostsRepository: how the posts of the new user are written is its rule.
  const service = new UsersBatchService(users as never, new PostsService(posts as never, {} as never, {} as never, {} as never), passwords as never);
  return { users, posts, passwords, service };
}

const admin: Actor = { id: 100, role: 'admin', sessionId: '00000000-0000-4000-8000-000000000100' };
const user: Actor = { id: 5, role: 'user', sessionId: '00000000-0000-4000-8000-000000000005' };

describe('UsersBatchService', () => {
  describe('upsertMany', () => {
    it('upserts the normalised rows in one call and answers in request order', async () => {
      const { users, service } = setup();
      // Keyed by email, in yet another order: the answer must not depend on it.
      users.upsertByEmail.mockResolvedValue(
        new Map([
          ['amy@example.com', userRow(2, 'Amy', 'amy@example.com', 'admin')],
          ['zed@example.com', userRow(1, 'Zed', 'zed@example.com')],
        ]),
      );
      const result = await service.upsertMany(admin, {
        users: [
          { name: 'Zed', email: ' Zed@Example.com' },
          { name: 'Amy', email: 'amy@example.com', role: 'admin' },
        ],
      });
      expect(users.upsertByEmail).toHaveBeenCalledTimes(1);
      expect(users.upsertByEmail.mock.calls[0][0]).toStrictEqual([
        { name: 'Zed', email: 'zed@example.com' },
        { name: 'Amy', email: 'amy@example.com', role: 'admin' },
      ]);
      expect(result).toEqual({
        data: [
          { id: 1, name: 'Zed', email: 'zed@example.com', role: 'user', createdAt: iso, updatedAt: iso },
          { id: 2, name: 'Amy', email: 'amy@example.com', role: 'admin', createdAt: iso, updatedAt: iso },
        ],
      });
    });

    it('rejects repeated emails, compared normalised, naming both indexes, before touching the database', async () => {
      const { users, service } = setup();
      const attempt = service.upsertMany(admin, {
        users: [
          { name: 'One', email: 'a@example.com' },
          { name: 'Two', email: 'b@example.com' },
          { name: 'Three', email: ' A@EXAMPLE.COM ' },
          { name: 'Four', email: 'b@example.com' },
        ],
      });
      await expect(attempt).rejects.toThrow(BadRequestException);
      await expect(attempt).rejects.toMatchObject({
        response: { message: ['users.2.email duplicates users.0.email', 'users.3.email duplicates users.1.email'] },
      });
      expect(users.upsertByEmail).not.toHaveBeenCalled();
    });

    it("passes the repository's failures through untouched, for the exception filter", async () => {
      const { users, service } = setup();
      const failure = new Error('connection lost');
      users.upsertByEmail.mockRejectedValue(failure);
      await expect(service.upsertMany(admin, { users: [{ name: 'Fine', email: 'a@example.com' }] })).rejects.toBe(failure);
    });
  });

  it('is for admins only: 401 for anonymous, 403 for a user, before touching the database', async () => {
    const { users, posts, passwords, service } = setup();
    await expect(service.upsertMany(undefined, { users: [{ name: 'Fine', email: 'a@example.com' }] })).rejects.toBeInstanceOf(UnauthorizedException);
    await expect(service.upsertMany(user, { users: [{ name: 'Fine', email: 'a@example.com' }] })).rejects.toBeInstanceOf(ForbiddenException);
    await expect(service.createWithPosts(undefined, { name: 'Writer', email: 'w@example.com', posts: [] })).rejects.toBeInstanceOf(UnauthorizedException);
    await expect(
      service.createWithPosts(user, { name: 'Writer', email: 'w@example.com', password: 'secret password 1', posts: [] }),
    ).rejects.toBeInstanceOf(ForbiddenException);
    expect(users.upsertByEmail).not.toHaveBeenCalled();
    expect(users.create).not.toHaveBeenCalled();
    expect(posts.createMany).not.toHaveBeenCalled();
    expect(passwords.hash).not.toHaveBeenCalled();
  });

  describe('createWithPosts', () => {
    it('creates the user, then all its posts in one call, and answers with both', async () => {
      const { users, posts, service } = setup();
      users.create.mockResolvedValue(userRow(7, 'Writer', 'w@example.com'));
      posts.createMany.mockResolvedValue([postRow(1, 7, 'A', 'a'), postRow(2, 7, 'B', 'b', true)]);
      const result = await service.createWithPosts(admin, {
        name: 'Writer',
        email: 'w@example.com',
        posts: [{ title: 'A', body: 'a' }, { title: 'B', body: 'b', published: true }],
      });
      expect(users.create).toHaveBeenCalledWith({ name: 'Writer', email: 'w@example.com', passwordHash: null });
      expect(posts.createMany).toHaveBeenCalledTimes(1);
      expect(posts.createMany).toHaveBeenCalledWith([
        { title: 'A', body: 'a', published: false, authorId: 7 },
        { title: 'B', body: 'b', published: true, authorId: 7 },
      ]);
      expect(result).toEqual({
        id: 7,
        name: 'Writer',
        email: 'w@example.com',
        role: 'user',
        createdAt: iso,
        updatedAt: iso,
        posts: [
          { id: 1, title: 'A', body: 'a', published: false, authorId: 7, createdAt: iso, updatedAt: iso },
          { id: 2, title: 'B', body: 'b', published: true, authorId: 7, createdAt: iso, updatedAt: iso },
        ],
      });
    });

    it('stores the hash of the password when one is given, and the role', async () => {
      const { users, service } = setup();
      users.create.mockResolvedValue(userRow(7, 'Writer', 'w@example.com', 'admin'));
      await service.createWithPosts(admin, { name: 'Writer', email: 'w@example.com', role: 'admin', password: 'secret password 1', posts: [] });
      expect(users.create).toHaveBeenCalledWith({ name: 'Writer', email: 'w@example.com', role: 'admin', passwordHash: 'hash(secret password 1)' });
    });

    it('answers [] for an empty list', async () => {
      const { users, service } = setup();
      users.create.mockResolvedValue(userRow(7, 'Writer', 'w@example.com'));
      await expect(service.createWithPosts(admin, { name: 'Writer', email: 'w@example.com', posts: [] })).resolves.toMatchObject({ id: 7, posts: [] });
    });

    it('writes no posts when the user cannot be created (a taken email: 409 from the filter)', async () => {
      const { users, posts, service } = setup();
      const taken = new UniqueConstraintError({});
      users.create.mockRejectedValue(taken);
      await expect(service.createWithPosts(admin, { name: 'Writer', email: 'w@example.com', posts: [{ title: 'A', body: 'a' }] })).rejects.toBe(taken);
      expect(posts.createMany).not.toHaveBeenCalled();
    });

    it("passes the posts' failures through untouched", async () => {
      const { users, posts, service } = setup();
      users.create.mockResolvedValue(userRow(7, 'Writer', 'w@example.com'));
      const failure = new BadRequestException(['posts.1.body must not be empty']);
      posts.createMany.mockRejectedValue(failure);
      await expect(
        service.createWithPosts(admin, { name: 'Writer', email: 'w@example.com', posts: [{ title: 'A', body: 'a' }, { title: 'B', body: '' }] }),
      ).rejects.toBe(failure);
    });
  });
});

/**
 * The rules of the bulk writes that now live in the repositories, run on stub models (no database): the row order of
 * the upsert, and the 400 naming each refused row's position in the request.
 */
describe('bulk writes behind UsersBatchService', () => {
  const instance = (values: Record<string, unknown>) => ({ ...values, get: () => ({ createdAt: at, updatedAt: at, ...values }) });

  /** A row the model refused, with Sequelize's own wording (which must not reach the client). */
  function invalid(values: Record<string, unknown>, path: string, rule: string, args: unknown[] = []): BulkRecordError {
    const item = new ValidationErrorItem(`Validation ${rule} on ${path} failed`, 'validation error', path, '', null as never, rule, rule, args);
    return new BulkRecordError(new ValidationError('Validation error', [item]), instance(values) as never);
  }

  describe('UsersRepository.upsertByEmail', () => {
    function repository() {
      const model = { bulkCreate: jest.fn() };
      return { model, users: new UsersRepository(model as never, {} as never) };
    }

    it('writes the rows in email order (concurrent batches lock shared addresses alike) and keys the result by email', async () => {
      const { model, users } = repository();
      model.bulkCreate.mockImplementation(async (rows: Array<Record<string, unknown>>) =>
        // RETURNING in yet another order: the result must not depend on it.
        [...rows].reverse().map((row, i) => instance({ id: i + 1, role: 'user', ...row })),
      );
      const byEmail = await users.upsertByEmail([
        { name: 'Zed', email: 'zed@example.com' },
        { name: 'Amy', email: 'amy@example.com', role: 'admin' },
      ]);
      expect(model.bulkCreate.mock.calls[0][0].map((row: { email: string }) => row.email)).toEqual(['amy@example.com', 'zed@example.com']);
      expect(byEmail.get('zed@example.com')).toEqual({ id: 1, name: 'Zed', email: 'zed@example.com', role: 'user', createdAt: at, updatedAt: at });
      expect(byEmail.get('amy@example.com')).toMatchObject({ id: 2, name: 'Amy', role: 'admin' });
    });

    it("turns the model's per-row validation failures into a 400 naming each row's index in the request", async () => {
      const { model, users } = repository();
      model.bulkCreate.mockRejectedValue(new AggregateError([invalid({ email: 'c@example.com' }, 'name', 'len', [2, 100])]));
      const attempt = users.upsertByEmail([
        { name: 'Fine', email: 'a@example.com' },
        { name: 'Also', email: 'b@example.com' },
        { name: 'Bad', email: 'c@example.com' },
      ]);
      await expect(attempt).rejects.toBeInstanceOf(BadRequestException);
      await expect(attempt).rejects.toMatchObject({ response: { message: ['users.2.name must be between 2 and 100 characters long'] } });
    });

    it('rethrows database errors untouched, for the exception filter', async () => {
      const { model, users } = repository();
      const failure = new Error('connection lost');
      model.bulkCreate.mockRejectedValue(failure);
      await expect(users.upsertByEmail([{ name: 'Fine', email: 'a@example.com' }])).rejects.toBe(failure);
    });
  });

  describe('PostsRepository.createMany', () => {
    function repository() {
      const model = { bulkCreate: jest.fn() };
      return { model, posts: new PostsRepository(model as never, {} as never) };
    }

    it('skips the insert for an empty list', async () => {
      const { model, posts } = repository();
      await expect(posts.createMany([])).resolves.toEqual([]);
      expect(model.bulkCreate).not.toHaveBeenCalled();
    });

    it("names the failing post's index", async () => {
      const { model, posts } = repository();
      model.bulkCreate.mockRejectedValue(new AggregateError([invalid({ title: 'B', body: 'b' }, 'body', 'notEmpty')]));
      await expect(
        posts.createMany([
          { title: 'A', body: 'a', published: false, authorId: 7 },
          { title: 'B', body: 'b', published: false, authorId: 7 },
        ]),
      ).rejects.toMatchObject({ response: { message: ['posts.1.body must not be empty'] } });
    });
  });
});
