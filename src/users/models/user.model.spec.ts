import { ValidationError } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { Post } from '../../posts/models/post.model';
import { User } from './user.model';

// Models need a Sequelize instance to run hooks and validators; nothing here opens a connection.
const sequelize = new Sequelize({ dialect: 'postgres', logging: false, models: [User, Post] });

// Sequelize's hook runner is public at runtime but missing from its type declarations.
const runHooks = (name: string, ...args: unknown[]): Promise<void> =>
  (User as unknown as { runHooks(name: string, ...args: unknown[]): Promise<void> }).runHooks(name, ...args);

afterAll(async () => {
  await sequelize.close();
});

describe('User email normalisation hooks', () => {
  it('trims and lower-cases on validate (create/save path), before the validators run', async () => {
    const user = User.build({ name: 'Ada', email: '  Ada@Example.COM ' });
    await user.validate();
    expect(user.email).toBe('ada@example.com');
  });

  it('normalises on beforeCreate and beforeUpdate too (callers may skip validation)', async () => {
    const user = User.build({ name: 'Ada', email: ' X@Y.IO' });
    await runHooks('beforeCreate', user, {});
    expect(user.email).toBe('x@y.io');
    user.email = 'Changed@Y.IO ';
    await runHooks('beforeUpdate', user, {});
    expect(user.email).toBe('changed@y.io');
  });

  it('normalises every row of a bulkCreate, which runs no per-row hooks by default', async () => {
    const users = [User.build({ name: 'A1', email: ' One@X.io' }), User.build({ name: 'A2', email: 'TWO@x.io ' })];
    await runHooks('beforeBulkCreate', users, {});
    expect(users.map((user) => user.email)).toEqual(['one@x.io', 'two@x.io']);
  });

  it('normalises the values of a static update', async () => {
    const options = { where: { id: 1 }, attributes: { email: ' Up@Date.IO ' } };
    await runHooks('beforeBulkUpdate', options);
    expect(options.attributes.email).toBe('up@date.io');
  });

  it('leaves rows without an email alone', async () => {
    const user = User.build({ name: 'Ada' } as never);
    await runHooks('beforeCreate', user, {});
    expect(user.email).toBeUndefined();
  });

  it('still rejects what is not an email, and names outside 2..100 characters', async () => {
    await expect(User.build({ name: 'Ada', email: 'not an email' }).validate()).rejects.toBeInstanceOf(ValidationError);
    await expect(User.build({ name: 'A', email: 'a@b.io' }).validate()).rejects.toBeInstanceOf(ValidationError);
  });
});
