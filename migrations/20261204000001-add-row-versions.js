'use strict';

/**
 * Row versions for optimistic concurrency (RFC 9110 conditional requests): every change through a model increments
 * `version` (Sequelize's `version: true`), and a resource's ETag is derived from its id and version. Existing rows
 * start at 0. Tags have none: their representation carries a live post count, which changes without the row.
 */
const TABLES = ['users', 'posts', 'comments'];

module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      for (const table of TABLES) {
        await queryInterface.addColumn(table, 'version', { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 }, { transaction });
      }
    });
  },

  async down(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      for (const table of TABLES) await queryInterface.removeColumn(table, 'version', { transaction });
    });
  },
};
