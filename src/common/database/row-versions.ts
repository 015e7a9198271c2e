/**
 * Row versions (optimistic locking, the ETag's source) on every write path. Sequelize's `version: true` increments
 * `version` on an instance save only; an upsert (bulkCreate with updateOnDuplicate) updates existing rows through
 * ON CONFLICT, which it does not see. One hook on the Sequelize instance bumps the version of each row an upsert
 * updated, in the statement's transaction, so that its ETag changes and an If-Match read before is stale.
 */
import type { Model, ModelStatic, Transaction } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';

const VERSION = 'version';

/** Whether the model keeps a row version (`version: true`): its rows have entity tags. */
export function isVersioned(model: ModelStatic<Model>): boolean {
  return VERSION in model.getAttributes();
}

/**
 * In an upsert, a row that existed: it keeps its createdAt, where an inserted row has the createdAt and updatedAt
 * Sequelize gave it, the same instant.
 */
export function wasUpdated(instance: Model): boolean {
  const { createdAt, updatedAt } = instance.get() as { createdAt?: Date; updatedAt?: Date };
  return createdAt instanceof Date && updatedAt instanceof Date && createdAt.getTime() !== updatedAt.getTime();
}

type UpsertOptions = { model?: ModelStatic<Model>; updateOnDuplicate?: string[]; transaction?: Transaction | null };

/** Installs the hook on every model of `sequelize`; call once, when the instance is created. */
export function installRowVersions(sequelize: Sequelize): void {
  sequelize.addHook('afterBulkCreate', 'row-versions', async (instances: Model[], options: UpsertOptions) => {
    const model = options.model;
    if (!model || !options.updateOnDuplicate || !isVersioned(model)) return;
    const updated = instances.filter(wasUpdated);
    if (updated.length === 0) return;
    const quote = (name: string) => sequelize.getQueryInterface().quoteIdentifier(name);
    const key = model.primaryKeyAttribute;
    await sequelize.query(`UPDATE ${quote(model.getTableName() as string)} SET ${quote(VERSION)} = ${quote(VERSION)} + 1 WHERE ${quote(key)} = ANY($1)`, {
      bind: [updated.map((instance) => instance.get(key))],
      transaction: options.transaction ?? undefined,
    });
    for (const instance of updated) instance.setDataValue(VERSION as never, ((instance.get(VERSION) as number) + 1) as never);
  });
}
