'use strict';

/**
 * posts: paranoid, owned by a user. The foreign key restricts hard deletes of an
 * author; the API only soft-deletes, cascading deletedAt from the user to its posts.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await queryInterface.createTable(
        'posts',
        {
          id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
          title: { type: Sequelize.STRING(255), allowNull: false },
          body: { type: Sequelize.TEXT, allowNull: false },
          published: { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: false },
          authorId: {
            type: Sequelize.INTEGER,
            allowNull: false,
            references: { model: 'users', key: 'id' },
            onUpdate: 'CASCADE',
            onDelete: 'RESTRICT',
          },
          createdAt: { type: Sequelize.DATE, allowNull: false, defaultValue: Sequelize.fn('now') },
          updatedAt: { type: Sequelize.DATE, allowNull: false, defaultValue: Sequelize.fn('now') },
          deletedAt: { type: Sequelize.DATE, allowNull: true },
        },
        { transaction },
      );

      await queryInterface.addConstraint('posts', {
        type: 'check',
        name: 'posts_title_not_empty',
        fields: ['title'],
        where: Sequelize.where(Sequelize.fn('char_length', Sequelize.col('title')), { [Sequelize.Op.gte]: 1 }),
        transaction,
      });
      await queryInterface.addConstraint('posts', {
        type: 'check',
        name: 'posts_body_not_empty',
        fields: ['body'],
        where: Sequelize.where(Sequelize.fn('char_length', Sequelize.col('body')), { [Sequelize.Op.gte]: 1 }),
        transaction,
      });

      // All rows (deleted too): the foreign key, author filters and the user
      // delete/restore cascade, which matches on (authorId, deletedAt).
      await queryInterface.addIndex('posts', ['authorId', 'deletedAt'], {
        name: 'posts_author_id_deleted_at',
        transaction,
      });
      // Default list order (-createdAt, id) over live rows.
      await queryInterface.addIndex('posts', ['createdAt', 'id'], {
        name: 'posts_created_at_id_live',
        where: { deletedAt: null },
        transaction,
      });
      // GET /posts?published=... in the default order.
      await queryInterface.addIndex('posts', ['published', 'createdAt', 'id'], {
        name: 'posts_published_created_at_id_live',
        where: { deletedAt: null },
        transaction,
      });
    });
  },

  async down(queryInterface) {
    await queryInterface.dropTable('posts');
  },
};
