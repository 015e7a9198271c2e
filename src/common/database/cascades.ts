/**
 * Declared cascades: a child model says how its rows follow a parent row's soft delete, and one mechanism, hooks on
 * every model of the Sequelize instance, applies it inside the statement's transaction (the request's).
 *
 *   @FollowsParent(() => Post, 'postId')               // deleted and restored with its post
 *   @FollowsParent(() => Post, 'postId', 'restrict')   // a post with live children cannot be deleted (409)
 *
 * Deleting a parent through `Repository.softDelete` stamps its live children with the parent's own `deletedAt`, and
 * their children in turn (users → posts → comments); restoring it brings back exactly the children carrying that
 * stamp, so rows deleted on their own before stay deleted. Restoring a child whose parent is deleted is refused
 * (409): the parent comes back first. Writes that bypass the hooks (`hooks: false`, raw SQL) bypass this too, which
 * is why only repositories write.
 */
import { ConflictException } from '@nestjs/common';
import { Op, Transaction, type Model, type ModelStatic, type UpdateOptions, type WhereOptions } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';

export type ParentDeletion = 'cascade' | 'restrict';

interface Cascade {
  readonly child: ModelStatic<Model>;
  readonly parent: () => ModelStatic<Model>;
  readonly foreignKey: string;
  readonly onParentDelete: ParentDeletion;
}

const cascades: Cascade[] = [];

/** On a paranoid child model: its `foreignKey` points at `parent`, whose soft delete it follows as `onParentDelete` says. */
export function FollowsParent(parent: () => ModelStatic<Model>, foreignKey: string, onParentDelete: ParentDeletion = 'cascade'): ClassDecorator {
  return (target) => {
    cascades.push({ child: target as unknown as ModelStatic<Model>, parent, foreignKey, onParentDelete });
  };
}

/** The rows of one soft-delete or restore statement, as its per-row hooks saw them. */
const ROWS = Symbol('cascade rows');
interface Row {
  readonly id: unknown;
  readonly previousDeletedAt: Date | null;
  /** The row's foreign key values, by the cascade that declares them. */
  readonly parentIds: ReadonlyMap<Cascade, unknown>;
}
type CascadeOptions = UpdateOptions & { model?: ModelStatic<Model>; attributes?: Record<string, unknown>; [ROWS]?: Row[] };

/** Installs the mechanism on every model of `sequelize`; call once, when the instance is created. */
export function installCascades(sequelize: Sequelize): void {
  const registered = (model: ModelStatic<Model>) => sequelize.isDefined(model.name) && sequelize.model(model.name) === model;
  const childrenOf = (model: ModelStatic<Model>) => cascades.filter((cascade) => cascade.parent() === model && registered(cascade.child));
  const parentsOf = (model: ModelStatic<Model>) => cascades.filter((cascade) => cascade.child === model && registered(cascade.parent()));

  sequelize.addHook('beforeBulkUpdate', 'cascades', (options: CascadeOptions) => {
    const model = options.model!;
    if (!options.attributes || !('deletedAt' in options.attributes)) return;
    if (childrenOf(model).length === 0 && parentsOf(model).length === 0) return;
    // The rows' ids are needed: Sequelize reads them, and calls beforeUpdate for each.
    options.individualHooks = true;
    options[ROWS] = [];
  });

  sequelize.addHook('beforeUpdate', 'cascades', (instance: Model, options: CascadeOptions) => {
    if (!options[ROWS]) return;
    const model = instance.constructor as ModelStatic<Model>;
    options[ROWS].push({
      id: instance.get(model.primaryKeyAttribute),
      previousDeletedAt: instance.previous('deletedAt' as never) as Date | null,
      parentIds: new Map(parentsOf(model).map((cascade) => [cascade, instance.get(cascade.foreignKey)])),
    });
  });

  sequelize.addHook('afterBulkUpdate', 'cascades', async (options: CascadeOptions) => {
    const rows = options[ROWS];
    if (!rows || rows.length === 0) return;
    const model = options.model!;
    const deletedAt = options.attributes!.deletedAt as Date | null;
    const transaction = options.transaction ?? undefined;
    if (deletedAt === null) {
      for (const cascade of parentsOf(model)) await refuseOrphans(model, cascade, rows, transaction);
      for (const cascade of childrenOf(model)) {
        const otherParents = parentsOf(cascade.child).filter((other) => other !== cascade);
        await restoreChildren(cascade, otherParents, rows, transaction);
      }
      return;
    }
    const ids = rows.map((row) => row.id);
    for (const cascade of childrenOf(model)) {
      if (cascade.onParentDelete === 'restrict') {
        const live = await cascade.child.findOne({ attributes: [cascade.foreignKey], where: { [cascade.foreignKey]: ids }, transaction, raw: true });
        if (live) throw new ConflictException(`${model.name} ${String((live as unknown as Record<string, unknown>)[cascade.foreignKey])} still has ${cascade.child.getTableName() as string}: delete them first`);
        continue;
      }
      await cascade.child.update({ deletedAt } as never, { where: { [cascade.foreignKey]: ids }, individualHooks: true, silent: true, transaction });
    }
  });
}

/**
 * Children come back when they were deleted with their parent: their deletedAt is the parent's former one. A child
 * whose other parent is deleted (a comment whose author was deleted too) stays deleted rather than failing the
 * restore: it could not come back without that parent. The other parents found live are share-locked first, so a
 * deletion of one of them under way is waited for (under READ COMMITTED, the default, its child then stays deleted;
 * at a stricter level the restore fails with a serialization failure, 503), and one that starts later waits for this
 * restore, then deletes the child with the rest.
 */
async function restoreChildren(cascade: Cascade, otherParents: Cascade[], rows: Row[], transaction: Transaction | undefined): Promise<void> {
  const byStamp = new Map<number, unknown[]>();
  for (const row of rows) {
    if (!row.previousDeletedAt) continue;
    const stamp = row.previousDeletedAt.getTime();
    byStamp.set(stamp, [...(byStamp.get(stamp) ?? []), row.id]);
  }
  for (const [stamp, ids] of byStamp) {
    const deletedWith: WhereOptions = { [cascade.foreignKey]: ids, deletedAt: new Date(stamp) };
    const conditions: WhereOptions[] = [deletedWith];
    if (otherParents.length > 0) {
      const children = (await cascade.child.findAll({ attributes: otherParents.map((other) => other.foreignKey), where: deletedWith, paranoid: false, transaction, raw: true })) as unknown as Array<Record<string, unknown>>;
      if (children.length === 0) continue;
      for (const other of otherParents) {
        const live = await lockLiveParents(other, children.map((child) => child[other.foreignKey]), transaction);
        conditions.push({ [other.foreignKey]: [...live] });
      }
    }
    await cascade.child.update({ deletedAt: null } as never, {
      where: { [Op.and]: conditions },
      paranoid: false,
      individualHooks: true,
      silent: true,
      transaction,
    });
  }
}

/**
 * Which of these parent ids are live rows, share-locked until the transaction ends, in id order (one order for every
 * writer that locks several of them). A deletion holds its row FOR UPDATE: the lock waits for it, then sees the row
 * deleted.
 */
async function lockLiveParents(cascade: Cascade, ids: unknown[], transaction: Transaction | undefined): Promise<Set<unknown>> {
  const parent = cascade.parent();
  const key = parent.primaryKeyAttribute;
  const live = await parent.findAll({ attributes: [key], where: { [key]: { [Op.in]: [...new Set(ids)] } }, order: [[key, 'ASC']], lock: Transaction.LOCK.SHARE, transaction, raw: true });
  return new Set(live.map((row) => (row as unknown as Record<string, unknown>)[key]));
}

/** A child cannot come back under a deleted parent. The parents are share-locked: they cannot be deleted meanwhile. */
async function refuseOrphans(model: ModelStatic<Model>, cascade: Cascade, rows: Row[], transaction: Transaction | undefined): Promise<void> {
  const parentIds = rows.map((row) => row.parentIds.get(cascade));
  const alive = await lockLiveParents(cascade, parentIds, transaction);
  const orphan = parentIds.find((id) => !alive.has(id));
  if (orphan === undefined) return;
  const parent = cascade.parent();
  throw new ConflictException(`${parent.name} ${String(orphan)} of this ${model.name.toLowerCase()} is deleted: restore the ${parent.name.toLowerCase()} first`);
}
