'use strict';

/**
 * audit_events: one row per changed row of an audited table (users, posts, and every later resource), written by
 * the models' hooks in the transaction of the change, so it is rolled back with it. `changes` holds the new values
 * of the fields that changed, secrets replaced by "[redacted]". Append-only: nothing updates or deletes these rows.
 */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await queryInterface.createTable(
        'audit_events',
        {
          id: { type: Sequelize.BIGINT, primaryKey: true, autoIncrement: true, allowNull: false },
          // No foreign key: the trail outlives the rows and accounts it names.
          actorId: { type: Sequelize.INTEGER, allowNull: true },
          action: { type: Sequelize.STRING(16), allowNull: false },
          tableName: { type: Sequelize.STRING(63), allowNull: false },
          rowId: { type: Sequelize.STRING(64), allowNull: false },
          changes: { type: Sequelize.JSONB, allowNull: false },
          requestId: { type: Sequelize.STRING(64), allowNull: true },
          createdAt: { type: Sequelize.DATE, allowNull: false, defaultValue: Sequelize.fn('now') },
        },
        { transaction },
      );
      // GET /audit?table=&rowId=: one row's history, newest first.
      await queryInterface.addIndex('audit_events', ['tableName', 'rowId', 'id'], { name: 'audit_events_table_row_id', transaction });
      await queryInterface.addIndex('audit_events', ['tableName', 'id'], { name: 'audit_events_table_id', transaction });
    });
  },

  async down(queryInterface) {
    await queryInterface.dropTable('audit_events');
  },
};
