'use strict';

/**
 * Demo data for `npm run db:seed`: a few users and their posts. Safe to run again
 * (sequelize-cli records it in SequelizeData, and each row is inserted only when
 * missing), and `db:seed:undo` removes exactly what it added.
 */
const USERS = [
  { name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin' },
  { name: 'Alan Turing', email: 'alan@example.com', role: 'user' },
  { name: 'Grace Hopper', email: 'grace@example.com', role: 'user' },
  { name: 'Edsger Dijkstra', email: 'edsger@example.com', role: 'user' },
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
    const { sequelize } = queryInterface;
    await sequelize.transaction(async (transaction) => {
      for (const user of USERS) {
        // Skips a user whose email a live row already holds (the partial unique index).
        await sequelize.query(
          `INSERT INTO users (name, email, role, "createdAt", "updatedAt")
           VALUES ($1, $2, $3, now(), now())
           ON CONFLICT (email) WHERE "deletedAt" IS NULL DO NOTHING`,
          { bind: [user.name, user.email, user.role], transaction },
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
