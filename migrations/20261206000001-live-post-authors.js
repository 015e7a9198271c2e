'use strict';

/**
 * A live post has a live author, as a guarantee of the database rather than a statement of the app's: a trigger on
 * every insert of a post and every change of its author share-locks the author's live row, and refuses the row when
 * there is none (a missing or soft-deleted user).
 * - The foreign key alone cannot say it: a soft-deleted user still exists, and the key's own lock (FOR KEY SHARE)
 *   does not conflict with the UPDATE that soft-deletes.
 * - FOR SHARE does: a user's deletion locks the user FOR UPDATE first, so it waits for a transaction that has just
 *   written a post under them (then deletes that post with the others), and a post written during a deletion waits
 *   for it, then sees the deleted row and is refused.
 * - The refusal is a foreign_key_violation (23503) named `posts_author_live`, so it reaches the app as Sequelize's
 *   ForeignKeyConstraintError with that name (PostsRepository answers 422).
 * - A restore (deletedAt back to NULL) is not checked here: the cascade rules refuse it first, with a 409 that says
 *   what to restore (common/database/cascades.ts).
 * It replaces the app's `SELECT … FOR SHARE` before each insert: one statement less per post written.
 */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await queryInterface.sequelize.query(
        `CREATE FUNCTION posts_require_live_author() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           PERFORM 1 FROM users WHERE id = NEW."authorId" AND "deletedAt" IS NULL FOR SHARE;
           IF NOT FOUND THEN
             RAISE EXCEPTION 'insert or update on table "posts" violates foreign key constraint "posts_author_live"'
               USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'posts_author_live', TABLE = 'posts', COLUMN = 'authorId',
                     DETAIL = format('Key ("authorId")=(%s) is not a live user.', NEW."authorId");
           END IF;
           RETURN NEW;
         END $$`,
        { transaction },
      );
      await queryInterface.sequelize.query(
        `CREATE TRIGGER posts_author_live BEFORE INSERT OR UPDATE OF "authorId" ON posts
         FOR EACH ROW WHEN (NEW."deletedAt" IS NULL) EXECUTE FUNCTION posts_require_live_author()`,
        { transaction },
      );
    });
  },

  async down(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await queryInterface.sequelize.query('DROP TRIGGER posts_author_live ON posts', { transaction });
      await queryInterface.sequelize.query('DROP FUNCTION posts_require_live_author()', { transaction });
    });
  },
};
