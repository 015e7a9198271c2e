'use strict';

/**
 * Demo data for `npm run db:seed` (development and test only: it refuses NODE_ENV=production): a few users with
 * the passwords below, which the README lists, and their posts. Safe to run again (sequelize-cli records it in
 * SequelizeData, and each row is inserted only when missing: an existing account keeps its own password), and
 * `npm run db:seed:undo` removes exactly what it added.
 */
const USERS = [
  { name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin', password: 'analytical-engine-1843' },
  { name: 'Alan Turing', email: 'alan@example.com', role: 'user', password: 'imitation-game-1950' },
  { name: 'Grace Hopper', email: 'grace@example.com', role: 'user', password: 'first-actual-bug-1947' },
  { name: 'Edsger Dijkstra', email: 'edsger@example.com', role: 'user', password: 'shortest-path-1959' },
];

const POSTS = {
  'ada@example.com': [
    { title: 'Notes on the Analytical Engine', body: 'The engine weaves algebraic patterns as the loom weaves flowers.', published: true },
    { title: 'Bernoulli numbers, step by step', body: 'A first program, written before any machine could run it.', published: true },
    { title: 'Draft: poetical science', body: 'Imagination is the discovering faculty.', published: false },
  ],
  'alan@example.com': [
    { title: 'On computable numbers', body: 'A number is computable if its decimal can be written down by a machine.', published: true },
    { title: 'The imitation game', body: 'Can machines think? Replace the question with a game.', published: false },
  ],
  'grace@example.com': [
    { title: 'The first actual bug', body: 'A moth, taped into the log book, 9 September 1947.', published: true },
  ],
  'edsger@example.com': [],
};

module.exports = {
  async up(queryInterface) {
    if (process.env.NODE_ENV === 'production') {
      throw new Error('Refusing to seed demo accounts with published passwords into a production database (NODE_ENV=production)');
    }
    const { sequelize } = queryInterface;
    // The app's own hasher (argon2id and its parameters are defined there only), loaded through tsx's require
    // since this file is plain JavaScript run by sequelize-cli. Hashed before the transaction opens.
    const { PasswordHasher } = require('tsx/cjs/api').require('../src/users/password-hasher', __filename);
    const hasher = new PasswordHasher();
    const hashes = await Promise.all(USERS.map((user) => hasher.hash(user.password)));
    await sequelize.transaction(async (transaction) => {
      for (const [index, user] of USERS.entries()) {
        // Skips a user whose email a live row already holds (the partial unique index).
        await sequelize.query(
          `INSERT INTO users (name, email, role, "passwordHash", "createdAt", "updatedAt")
           VALUES ($1, $2, $3, $4, now(), now())
           ON CONFLICT (email) WHERE "deletedAt" IS NULL DO NOTHING`,
          { bind: [user.name, user.email, user.role, hashes[index]], transaction },
        );
      }
      const [authors] = await sequelize.query(
        'SELECT id, email FROM users WHERE email = ANY($1) AND "deletedAt" IS NULL',
        { bind: [USERS.map((user) => user.email)], transaction },
      );
      for (const author of authors) {
        for (const post of POSTS[author.email] ?? []) {
          await sequelize.query(
            `INSERT INTO posts (title, body, published, "authorId", "createdAt", "updatedAt")
             SELECT $1::varchar, $2::text, $3::boolean, $4::integer, now(), now()
             WHERE NOT EXISTS (SELECT 1 FROM posts WHERE "authorId" = $4 AND title = $1)`,
            { bind: [post.title, post.body, post.published, author.id], transaction },
          );
        }
      }
    });
  },

  async down(queryInterface) {
    const { sequelize } = queryInterface;
    const emails = USERS.map((user) => user.email);
    const titles = Object.values(POSTS).flat().map((post) => post.title);
    await sequelize.transaction(async (transaction) => {
      await sequelize.query(
        'DELETE FROM posts WHERE title = ANY($2) AND "authorId" IN (SELECT id FROM users WHERE email = ANY($1))',
        { bind: [emails, titles], transaction },
      );
      // Only users left without posts: never a hard delete that the posts' foreign key would refuse.
      await sequelize.query(
        'DELETE FROM users u WHERE u.email = ANY($1) AND NOT EXISTS (SELECT 1 FROM posts p WHERE p."authorId" = u.id)',
        { bind: [emails], transaction },
      );
    });
  },
};
