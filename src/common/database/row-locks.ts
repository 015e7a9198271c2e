/**
 * A static update with per-row hooks (a soft delete, a restore, a cascade) reads its rows, then updates them. Read
 * without a lock, a row another transaction changes in between is seen by the hooks but skipped by the UPDATE: the
 * trail would record, and a cascade follow, a change that did not happen. So the rows are locked first, in key order,
 * and the statement is narrowed to them.
 */
import { Op, Transaction, type Model, type ModelStatic, type UpdateOptions } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';

type BulkUpdateOptions = UpdateOptions & { model?: ModelStatic<Model> };

/** Installs the hook on every model of `sequelize`; call after the hooks that turn on `individualHooks`. */
export function installRowLocks(sequelize: Sequelize): void {
  sequelize.addHook('beforeBulkUpdate', 'row-locks', async (options: BulkUpdateOptions) => {
    const model = options.model;
    // Outside a transaction a lock would end with its statement; a composite key has no one order to lock in.
    if (!model || !options.individualHooks || !options.transaction || model.primaryKeyAttributes.length !== 1) return;
    const key = model.primaryKeyAttribute;
    const rows = await model.findAll({
      attributes: [key],
      where: options.where,
      paranoid: options.paranoid,
      order: [[key, 'ASC']],
      // As strong as the UPDATE's own lock, no stronger: inserts that reference these rows are not held up.
      lock: Transaction.LOCK.NO_KEY_UPDATE,
      transaction: options.transaction,
      raw: true,
    });
    const ids = rows.map((row) => (row as unknown as Record<string, unknown>)[key]);
    options.where = { [Op.and]: [options.where, { [key]: ids }] };
  });
}
