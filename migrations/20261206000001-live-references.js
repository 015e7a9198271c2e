'use strict';

/**
 * A live row's author is a live user, as a guarantee of the database rather than a statement of the app's: on posts
 * and on comments, a trigger on every insert and every change of `authorId` share-locks the author's live row, and
 * refuses the row when there is none (a missing or soft-deleted user).
 * - The foreign key alone cannot say it: a soft-deleted user still exists, and the key's own lock (FOR KEY SHARE)
 *   does not conflict with the UPDATE that soft-deletes.
 * - FOR SHARE does: a user's deletion locks the user FOR UPDATE first, so it waits for a transaction that has just
 *   written under them (then deletes those rows with the others), and a row written during a deletion waits for it,
 *   then sees the deleted user and is refused.
 * - The refusal is a foreign_key_violation (23503) naming the trigger (`<table>_<column>_live`) and the column, so it
 *   reaches the app as Sequelize's ForeignKeyConstraintError, which the service answers by the column
 *   (src/common/database/dead-reference.ts).
 * - Only live rows are checked, and a restore (deletedAt back to NULL) is not: the cascade rules refuse a restore under
 *   a deleted parent with a 409 that says what to restore, and a row restored with one parent is skipped while its
 *   other parent is deleted (src/common/database/cascades.ts).
 * It replaces the app's `SELECT … FOR SHARE` before each insert: one statement less per post or comment written.
 * Generated modules get the same triggers for their parent and author (generator/templates/migration.js.hbs).
 */
const REFERENCES = [
  { table: 'posts', column: 'authorId', parent: 'users', name: 'posts_author_id_live' },
  { table: 'comments', column: 'authorId', parent: 'users', name: 'comments_author_id_live' },
];

function createLiveReference({ table, column, parent, name }) {
  return [
    `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       PERFORM 1 FROM ${parent} WHERE id = NEW."${column}" AND "deletedAt" IS NULL FOR SHARE;
       IF NOT FOUND THEN
         RAISE EXCEPTION 'insert or update on table "${table}" violates foreign key constraint "${name}"'
           USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '${name}', TABLE = '${table}', COLUMN = '${column}',
                 DETAIL = format('Key ("${column}")=(%s) is not a live row of "${parent}".', NEW."${column}");
       END IF;
       RETURN NEW;
     END $$`,
    `CREATE TRIGGER ${name} BEFORE INSERT OR UPDATE OF "${column}" ON ${table}
     FOR EACH ROW WHEN (NEW."deletedAt" IS NULL) EXECUTE FUNCTION ${name}()`,
  ];
}

module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      for (const reference of REFERENCES) {
        for (const sql of createLiveReference(reference)) await queryInterface.sequelize.query(sql, { transaction });
      }
    });
  },

  async down(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      for (const { table, name } of REFERENCES) {
        await queryInterface.sequelize.query(`DROP TRIGGER ${name} ON ${table}`, { transaction });
        await queryInterface.sequelize.query(`DROP FUNCTION ${name}()`, { transaction });
      }
    });
  },
};
