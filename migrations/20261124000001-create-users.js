'use strict';

/**
 * users: paranoid (soft-deleted rows keep their deletedAt). Emails are stored
 * normalised (trimmed, lower-cased) by the model hooks, so uniqueness is a plain
 * partial unique index on the stored value, limited to live rows so that a
 * soft-deleted user does not hold its address for ever.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await queryInterface.createTable(
        'users',
        {
          id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
          name: { type: Sequelize.STRING(100), allowNull: false },
          email: { type: Sequelize.STRING(255), allowNull: false },
          role: { type: Sequelize.ENUM('user', 'admin'), allowNull: false, defaultValue: 'user' },
          createdAt: { type: Sequelize.DATE, allowNull: false, defaultValue: Sequelize.fn('now') },
          updatedAt: { type: Sequelize.DATE, allowNull: false, defaultValue: Sequelize.fn('now') },
          deletedAt: { type: Sequelize.DATE, allowNull: true },
        },
        { transaction },
      );

      await queryInterface.addConstraint('users', {
        type: 'check',
        name: 'users_name_length',
        fields: ['name'],
        where: Sequelize.where(Sequelize.fn('char_length', Sequelize.col('name')), { [Sequelize.Op.gte]: 2 }),
        transaction,
      });

      await queryInterface.addIndex('users', ['email'], {
        name: 'users_email_live_unique',
        unique: true,
        where: { deletedAt: null },
        transaction,
      });

      // Default list order is -createdAt with id as tie-breaker, over live rows.
      await queryInterface.addIndex('users', ['createdAt', 'id'], {
        name: 'users_created_at_id_live',
        where: { deletedAt: null },
        transaction,
      });
    });
  },

  async down(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await queryInterface.dropTable('users', { transaction });
      await queryInterface.sequelize.query('DROP TYPE IF EXISTS "enum_users_role"', { transaction });
    });
  },
};
