'use strict';

/**
 * createdAt and updatedAt keep milliseconds, not microseconds, on the tables whose lists sort on them. A page cursor
 * carries the last row's sort key values, and JavaScript dates hold milliseconds: a microsecond the cursor cannot
 * carry would make the next page skip or repeat rows. The app always wrote milliseconds; this makes the database
 * guarantee it for every writer (a default of now(), a script).
 * Operators: changing a column's type rewrites the table under an ACCESS EXCLUSIVE lock, so each of the four tables
 * takes neither reads nor writes while it is rewritten. On a large deployment, apply
 * this step in a quiet window; instances keep serving the other tables meanwhile.
 */
const TABLES = ['users', 'posts', 'comments', 'tags'];
const COLUMNS = ['createdAt', 'updatedAt'];

async function retype(queryInterface, type) {
  await queryInterface.sequelize.transaction(async (transaction) => {
    for (const table of TABLES) {
      const changes = COLUMNS.map((column) => `ALTER COLUMN "${column}" TYPE ${type}`).join(', ');
      await queryInterface.sequelize.query(`ALTER TABLE "${table}" ${changes}`, { transaction });
    }
  });
}

module.exports = {
  async up(queryInterface) {
    await retype(queryInterface, 'timestamp(3) with time zone');
  },

  async down(queryInterface) {
    await retype(queryInterface, 'timestamp with time zone');
  },
};
