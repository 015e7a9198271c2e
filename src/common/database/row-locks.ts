/**
 * A static update that runs per-row hooks (the audit trail and the cascades turn them on: a soft delete, a restore, a
 * cascade) reads its rows first, then updates them. Sequelize reads them without a lock, so a row changed in
 * between by another transaction (a post moved to another author while its author is deleted) would be seen by the
 * hooks, then skipped by the UPDATE, which re-checks its WHERE: the audit trail would record a change that did not
 * happen, and a cascade would follow a row that did not change (deleting a live post's comments).
 *
 * So the rows are locked FOR UPDATE first, in key order, and the statement is narrowed to them: what the hooks see
 * is what the UPDATE changes. A concurrent writer holding one is waited for; under READ COMMITTED the lock then
 * re-checks the row and leaves it out if it no longer matches.
 */
import { Op, Transaction, type Model, type ModelStatic, type UpdateOptions } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';

type BulkUpdateOptions = UpdateOptions & { model?: ModelStatic<Model> };

/** Installs the hook on every model of `sequelize`; call after the hooks that turn on `individualHooks`. */
export function installRowLocks(sequelize: Sequelize): void {
  sequelize.addHook('beforeBulkUpdate', 'row-locks', async (options: BulkUpdateOptions) => {
    const model = options.model;
    if (!model || !options.individualHooks) return;
    const key = model.primaryKeyAttribute;
    const rows = await model.findAll({
      attributes: [key],
      where: options.where,
      paranoid: options.paranoid,
      order: [[key, 'ASC']],
      lock: Transaction.LOCK.UPDATE,
      transaction: options.transaction,
      raw: true,
    });
    const ids = rows.map((row) => (row as unknown as Record<string, unknown>)[key]);
    options.where = { [Op.and]: [options.where, { [key]: ids }] };
  });
}
