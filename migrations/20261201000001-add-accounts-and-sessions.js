'use strict';

/**
 * Accounts: users get an optional argon2id password hash (an account without one cannot log in), and login
 * sessions with their refresh tokens.
 *
 * sessions: one row per login. Access tokens name their session; a revoked or expired session refuses them.
 * refresh_tokens: every refresh token a session was ever given, stored only as the SHA-256 of the opaque token.
 * Rotation marks the presented one `replacedAt`; presenting a replaced token again revokes the whole session.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await queryInterface.addColumn('users', 'passwordHash', { type: Sequelize.STRING(255), allowNull: true }, { transaction });

      await queryInterface.createTable(
        'sessions',
        {
          id: { type: Sequelize.UUID, primaryKey: true, allowNull: false },
          userId: {
            type: Sequelize.INTEGER,
            allowNull: false,
            references: { model: 'users', key: 'id' },
            onUpdate: 'CASCADE',
            onDelete: 'CASCADE',
          },
          expiresAt: { type: Sequelize.DATE, allowNull: false },
          revokedAt: { type: Sequelize.DATE, allowNull: true },
          createdAt: { type: Sequelize.DATE, allowNull: false, defaultValue: Sequelize.fn('now') },
          updatedAt: { type: Sequelize.DATE, allowNull: false, defaultValue: Sequelize.fn('now') },
        },
        { transaction },
      );
      // Revoking every live session of a user (password change, role change, deletion).
      await queryInterface.addIndex('sessions', ['userId'], { name: 'sessions_user_id_live', where: { revokedAt: null }, transaction });

      await queryInterface.createTable(
        'refresh_tokens',
        {
          tokenHash: { type: Sequelize.STRING(64), primaryKey: true, allowNull: false },
          sessionId: {
            type: Sequelize.UUID,
            allowNull: false,
            references: { model: 'sessions', key: 'id' },
            onUpdate: 'CASCADE',
            onDelete: 'CASCADE',
          },
          expiresAt: { type: Sequelize.DATE, allowNull: false },
          replacedAt: { type: Sequelize.DATE, allowNull: true },
          createdAt: { type: Sequelize.DATE, allowNull: false, defaultValue: Sequelize.fn('now') },
        },
        { transaction },
      );
      await queryInterface.addIndex('refresh_tokens', ['sessionId'], { name: 'refresh_tokens_session_id', transaction });
    });
  },

  async down(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await queryInterface.dropTable('refresh_tokens', { transaction });
      await queryInterface.dropTable('sessions', { transaction });
      await queryInterface.removeColumn('users', 'passwordHash', { transaction });
    });
  },
};
