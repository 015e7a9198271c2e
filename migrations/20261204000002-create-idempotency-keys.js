'use strict';

/**
 * idempotency_keys (issue 15): the first answer to a POST sent with an Idempotency-Key, kept per caller and key until
 * it expires, so that a retry gets the same answer instead of a second write. Written in the transaction of the
 * write it answers: a request that fails leaves no key behind.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await queryInterface.createTable(
        'idempotency_keys',
        {
          actorId: { type: Sequelize.INTEGER, primaryKey: true, allowNull: false },
          key: { type: Sequelize.STRING(255), primaryKey: true, allowNull: false },
          // The request the key was first used for: method and path, and a SHA-256 of its body.
          route: { type: Sequelize.STRING(512), allowNull: false },
          fingerprint: { type: Sequelize.STRING(64), allowNull: false },
          status: { type: Sequelize.INTEGER, allowNull: false },
          // json, not jsonb: a replay sends the body with its keys in the order first sent.
          body: { type: Sequelize.JSON, allowNull: true },
          createdAt: { type: Sequelize.DATE, allowNull: false },
          expiresAt: { type: Sequelize.DATE, allowNull: false },
        },
        { transaction },
      );
      // The sweeper deletes expired keys oldest first, a bounded batch at a time.
      await queryInterface.addIndex('idempotency_keys', ['expiresAt'], { name: 'idempotency_keys_expires_at', transaction });
    });
  },

  async down(queryInterface) {
    await queryInterface.dropTable('idempotency_keys');
  },
};
