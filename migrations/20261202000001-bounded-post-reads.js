'use strict';

/**
 * Indexes that keep every post read bounded by its parameters, not by the table:
 * - `q` search (a case-insensitive substring of title or body): pg_trgm GIN indexes, one per column, which the
 *   planner combines for `title ILIKE … OR body ILIKE …`. pg_trgm is a trusted extension (PostgreSQL 13+): the
 *   database owner may create it without superuser rights.
 * - `include=posts` (each user's newest posts, a few per user): (authorId, createdAt, id) over live rows, so each
 *   author's newest posts are an index range read and their count an index-only scan.
 * - posts_text_contains(title, body, term): the whole search term, checked on the rows the index found. Declared
 *   costly on purpose: long bodies live out of line (TOAST), which the planner does not price, so a sequential scan
 *   of a table of long posts looks cheap and reads every body; with the check's real cost known, the planner
 *   reads the trigram indexes. PL/pgSQL, because a SQL function would be inlined and its cost forgotten.
 */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await queryInterface.sequelize.query('CREATE EXTENSION IF NOT EXISTS pg_trgm', { transaction });
      for (const column of ['title', 'body']) {
        await queryInterface.sequelize.query(
          `CREATE INDEX posts_${column}_trgm_live ON posts USING gin ("${column}" gin_trgm_ops) WHERE "deletedAt" IS NULL`,
          { transaction },
        );
      }
      await queryInterface.sequelize.query(
        `CREATE FUNCTION posts_text_contains(title text, body text, term text) RETURNS boolean
           LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE COST 10000
           AS $$ BEGIN RETURN strpos(lower(title), lower(term)) > 0 OR strpos(lower(body), lower(term)) > 0; END $$`,
        { transaction },
      );
      await queryInterface.addIndex('posts', ['authorId', 'createdAt', 'id'], {
        name: 'posts_author_id_created_at_id_live',
        where: { deletedAt: null },
        transaction,
      });
    });
  },

  async down(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await queryInterface.removeIndex('posts', 'posts_author_id_created_at_id_live', { transaction });
      await queryInterface.sequelize.query('DROP FUNCTION posts_text_contains(text, text, text)', { transaction });
      await queryInterface.removeIndex('posts', 'posts_body_trgm_live', { transaction });
      await queryInterface.removeIndex('posts', 'posts_title_trgm_live', { transaction });
      // The extension stays: other objects may have come to depend on it, and it costs nothing unused.
    });
  },
};
