import { BadRequestException, ForbiddenException } from '@nestjs/common';
import type { Actor } from '../common/access/actor';
import { AggregateError, BulkRecordError, ValidationError, ValidationErrorItem } from 'sequelize';
import { PostsService } from '../posts/posts.service';
import { UsersBatchService } from './users-batch.service';

const at = new Date('2026-11-01T10:00:00.000Z');
const instance = (values: Record<string, unknown>) => ({ ...values, get: () => ({ createdAt: at, updatedAt: at, ...values }) });

/** A row the model refused, with Sequelize's own wording (which must not reach the client). */
function invalid(values: Record<string, unknown>, path: string, rule: string, args: unknown[] = []): BulkRecordError {
  const item = new ValidationErrorItem(`Validation ${rule} on ${path} failed`, 'validation error', path, '', null as never, rule, rule, args);
  return new BulkRecordError(new ValidationError('Validation error', [item]), instance(values) as never);
}

function setup() {
  const users = { create: jest.fn(), bulkCreate: jest.fn() };
  const posts = { bulkCreate: jest.fn() };
  const passwords = { hash: jest.fn(async (password: string) => `hash(${password})`) };
  const service = new UsersBatchService(users as never, new PostsService(posts as never, {} as never), passwords as never);
  return { users, posts, passwords, service };
}

const admin: Actor = { id: 100, role: 'admin', sessionId: '00000000-0000-4000-8000-000000000100' };
const user: Actor = { id: 5, role: 'user', sessionId: '00000000-0000-4000-8000-000000000005' };

describe('UsersBatchService', () => {
  afterEach(() => jest.restoreAllMocks());

  describe('upsertMany', () => {
    it('upserts in email order on the partial unique index and answers in request order', async () => {
      const { users, service } = setup();
      users.bulkCreate.mockImplementation(async (rows: Array<Record<string, unknown>>) =>
        // Returned in yet another order: the answer must not depend on it.
        [...rows].reverse().map((row, i) => instance({ id: i + 1, role: 'user', ...row })),
      );
      const result = await service.upsertMany(admin, {
        users: [
          { name: 'Zed', email: ' Zed@Example.com' },
          { name: 'Amy', email: 'amy@example.com', role: 'admin' },
        ],
      });
      const [rows, options] = users.bulkCreate.mock.calls[0];
      expect(rows).toEqual([
        { name: 'Amy', email: 'amy@example.com', role: 'admin' },
        { name: 'Zed', email: 'zed@example.com' },
      ]);
      expect(options).toMatchObject({
        validate: true,
        conflictAttributes: ['email'],
        conflictWhere: { deletedAt: null },
        updateOnDuplicate: ['name', 'updatedAt'],
      });
      expect(result.data.map((user) => user.email)).toEqual(['zed@example.com', 'amy@example.com']);
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
      expect(users.bulkCreate).not.toHaveBeenCalled();
    });

    it("turns the model's per-row validation failures into a 400 naming each row's index", async () => {
      const { users, service } = setup();
      users.bulkCreate.mockRejectedValue(new AggregateError([invalid({ email: 'c@example.com' }, 'name', 'len', [2, 100])]));
      await expect(
        service.upsertMany(admin, {
          users: [
            { name: 'Fine', email: 'a@example.com' },
            { name: 'Also', email: 'b@example.com' },
            { name: 'Bad', email: 'c@example.com' },
          ],
        }),
      ).rejects.toMatchObject({ response: { message: ['users.2.name must be between 2 and 100 characters long'] } });
    });

    it('rethrows database errors untouched, for the exception filter', async () => {
      const { users, service } = setup();
      const failure = new Error('connection lost');
      users.bulkCreate.mockRejectedValue(failure);
      await expect(service.upsertMany(admin, { users: [{ name: 'Fine', email: 'a@example.com' }] })).rejects.toBe(failure);
    });
  });

  it('is for admins only: 403 for a user, before touching the database', async () => {
    const { users, service } = setup();
    await expect(service.upsertMany(user, { users: [{ name: 'Fine', email: 'a@example.com' }] })).rejects.toBeInstanceOf(ForbiddenException);
    await expect(service.createWithPosts(user, { name: 'Writer', email: 'w@example.com', posts: [] })).rejects.toBeInstanceOf(ForbiddenException);
    expect(users.bulkCreate).not.toHaveBeenCalled();
    expect(users.create).not.toHaveBeenCalled();
  });

  describe('createWithPosts', () => {
    it('creates the user, then all posts in one bulk insert, and answers with both', async () => {
      const { users, posts, service } = setup();
      users.create.mockResolvedValue(instance({ id: 7, name: 'Writer', email: 'w@example.com', role: 'user' }));
      const bulkCreate = posts.bulkCreate.mockImplementation(async (rows: Array<Record<string, unknown>>) =>
        rows.map((row, i) => instance({ id: i + 1, ...row })),
      );
      const result = await service.createWithPosts(admin, {
        name: 'Writer',
        email: 'w@example.com',
        posts: [{ title: 'A', body: 'a' }, { title: 'B', body: 'b', published: true }],
      });
      expect(users.create).toHaveBeenCalledWith({ name: 'Writer', email: 'w@example.com', passwordHash: null });
      expect(bulkCreate).toHaveBeenCalledTimes(1);
      expect(bulkCreate.mock.calls[0][0]).toEqual([
        { title: 'A', body: 'a', published: false, authorId: 7 },
        { title: 'B', body: 'b', published: true, authorId: 7 },
      ]);
      expect(bulkCreate.mock.calls[0][1]).toMatchObject({ validate: true });
      expect(result).toMatchObject({ id: 7, posts: [{ id: 1, title: 'A', authorId: 7 }, { id: 2, title: 'B', published: true }] });
    });

    it('skips the posts insert for an empty list', async () => {
      const { users, posts, service } = setup();
      users.create.mockResolvedValue(instance({ id: 7, name: 'Writer', email: 'w@example.com', role: 'user' }));
      const bulkCreate = posts.bulkCreate;
      await expect(service.createWithPosts(admin, { name: 'Writer', email: 'w@example.com', posts: [] })).resolves.toMatchObject({ posts: [] });
      expect(bulkCreate).not.toHaveBeenCalled();
    });

    it("names the failing post's index", async () => {
      const { users, posts, service } = setup();
      users.create.mockResolvedValue(instance({ id: 7, name: 'Writer', email: 'w@example.com', role: 'user' }));
      posts.bulkCreate.mockRejectedValue(new AggregateError([invalid({ title: 'B', body: 'b' }, 'body', 'notEmpty')]));
      await expect(
        service.createWithPosts(admin, { name: 'Writer', email: 'w@example.com', posts: [{ title: 'A', body: 'a' }, { title: 'B', body: 'b' }] }),
      ).rejects.toMatchObject({ response: { message: ['posts.1.body must not be empty'] } });
    });
  });
});
