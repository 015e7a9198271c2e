/**
 * The base of every repository: the one class per table that reads and writes it (models, raw SQL, locks).
 * Services hold the rules and call repositories, never models or `sequelize.query`.
 *
 * Each method starts with `await this.ready()`: inside a mutating request that begins the request transaction
 * (pending until then, so validation and access checks cost no BEGIN), and every statement after it joins that
 * transaction by itself (common/database/transaction-context.ts). Outside one it costs nothing.
 */
import { PreconditionFailedException } from '@nestjs/common';
import { Op, QueryTypes, Transaction, type FindOptions, type Model as AnyModel, type ModelStatic, type WhereOptions } from 'sequelize';
import type { Model, ModelCtor, Sequelize } from 'sequelize-typescript';
import { keysetWhere, keyValuesOf } from '../pagination/keyset';
import type { FoundPage, PageWindow } from '../pagination/paginator';
import { entityTag, ifMatchHolds, StaleEntityTagException } from '../http/entity-tag';
import { isVersioned } from './row-versions';
import { beginPendingTransaction, currentWritePrecondition } from './transaction-context';

/** Scopes as `Model.scope` takes them: by name, or with parameters (`{ method: ['byAuthor', 3] }`). */
export type ScopeList = ReadonlyArray<string | { method: [string, ...unknown[]] }>;

export abstract class Repository {
  /** The scoped models made so far, by model and scope names (see `scoped`). */
  private readonly scopedModels = new Map<string, ModelStatic<AnyModel>>();

  protected constructor(protected readonly sequelize: Sequelize) {}

  protected async ready(): Promise<void> {
    await beginPendingTransaction();
  }

  /** A bound SELECT: the rows as plain objects. */
  protected async select<T extends object>(sql: string, bind: unknown[]): Promise<T[]> {
    await this.ready();
    return this.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });
  }

  /**
   * A bound statement that returns at most one row (SELECT, or a write with RETURNING): that row, or null.
   * `fromPrimary`: never from a read replica, for a read that must see every committed write (a revoked session).
   */
  protected async selectOne<T extends object>(sql: string, bind: unknown[], options: { fromPrimary?: boolean } = {}): Promise<T | null> {
    await this.ready();
    return this.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT, plain: true, ...(options.fromPrimary && { useMaster: true }) });
  }

  /**
   * `model` with `scopes` applied. Every `Model.scope()` call makes a new model class, which costs the call and leaves
   * Sequelize's code facing a new class each request; a scoped model is reusable (sequelize#2738), so combinations of
   * named scopes, a handful per table, are made once. A scope with parameters is applied anew on each call.
   */
  protected scoped<M extends AnyModel>(model: ModelStatic<M>, scopes: ScopeList): ModelStatic<M> {
    if (scopes.length === 0) return model;
    if (!scopes.every((scope) => typeof scope === 'string')) return model.scope([...scopes]);
    const key = `${model.name}:${scopes.join(',')}`;
    let found = this.scopedModels.get(key) as ModelStatic<M> | undefined;
    if (!found) {
      found = model.scope([...scopes]);
      this.scopedModels.set(key, found);
    }
    return found;
  }

  /**
   * One page of `model`'s rows matching `options` in `window`: by offset, or after the previous page's last row
   * (keyset), with their count when the window asks for it (`counted`: the model to count on, when `model` carries
   * includes the count does not need). One row more than the page is read, to know whether another page follows.
   */
  protected async findPage<R extends object>(
    model: ModelStatic<AnyModel>,
    options: Omit<FindOptions, 'order' | 'limit' | 'offset'>,
    window: PageWindow,
    counted: ModelStatic<AnyModel> = model,
  ): Promise<FoundPage<R>> {
    await this.ready();
    const total = window.withTotal ? await counted.count({ where: options.where }) : undefined;
    const where = window.after ? { [Op.and]: [options.where ?? {}, keysetWhere(window.order, window.after, model.name)] } : options.where;
    const rows = (await model.findAll({ ...options, where, order: window.order, limit: window.limit + 1, offset: window.offset })) as unknown as R[];
    const more = rows.length > window.limit;
    if (more) rows.pop();
    return { rows, total, last: more ? keyValuesOf(rows[rows.length - 1] as Record<string, unknown>, window.order) : null };
  }

  /**
   * Lock, decide, write: reads the live row `id` locked FOR UPDATE (until the request's transaction ends), hands it to
   * `decide` (the service's rules: they may throw to refuse, or return no changes), checks the request's If-Match
   * against it, and writes what `decide` returned through the same instance, so the model's hooks run and the row is
   * read once. Null when there is no live row.
   */
  protected async updateLocked<M extends Model>(
    model: ModelCtor<M>,
    id: number,
    attributes: readonly string[],
    decide: (row: M) => Promise<object> | object,
  ): Promise<M | null> {
    const row = await this.lockRow(model, id, attributes);
    if (!row) return null;
    const changes = await decide(row);
    assertPrecondition(model, row);
    if (Object.keys(changes).length > 0) await row.update(changes);
    return row;
  }

  /**
   * Lock, decide, delete: as updateLocked, then a soft delete through the model's hooks (the audit trail, the
   * cascades). False when there is no live row.
   */
  protected async deleteLocked<M extends Model>(model: ModelCtor<M>, id: number, attributes: readonly string[], decide: (row: M) => Promise<void> | void): Promise<boolean> {
    const row = await this.lockRow(model, id, attributes);
    if (!row) return false;
    await decide(row);
    assertPrecondition(model, row);
    return (await this.softDelete(model, { [model.primaryKeyAttribute]: id })) > 0;
  }

  /**
   * Soft-deletes the live rows of a paranoid model matching `where`, all with the one timestamp `at`, through the
   * model's hooks: the audit trail records each row, and children declared with `@FollowsParent` follow.
   * Returns how many rows were deleted.
   */
  protected async softDelete<M extends Model>(model: ModelCtor<M>, where: WhereOptions, at = new Date()): Promise<number> {
    await this.ready();
    const [count] = await model.update({ deletedAt: at } as never, { where, individualHooks: true, silent: true });
    return count;
  }

  /** Brings back the rows of `where` deleted at `deletedAt` (and the children deleted with them). */
  protected async restoreDeleted<M extends Model>(model: ModelCtor<M>, where: WhereOptions, deletedAt: Date): Promise<number> {
    await this.ready();
    const [count] = await model.update({ deletedAt: null } as never, {
      where: { ...where, deletedAt } as WhereOptions,
      paranoid: false,
      individualHooks: true,
      silent: true,
    });
    return count;
  }

  /**
   * For a write to what has no entity tag (a set of links, a row without a version): a request's If-Match can only
   * be `*` (412 otherwise), since no tag it was given can name a version of it.
   */
  protected assertNoEntityTag(resource: string): void {
    assertNoEntityTag(resource);
  }

  /** The live row, locked FOR UPDATE, with its version when the model keeps one (for If-Match). */
  private async lockRow<M extends Model>(model: ModelCtor<M>, id: number, attributes: readonly string[]): Promise<M | null> {
    await this.ready();
    const columns = isVersioned(model) && !attributes.includes(VERSION) ? [...attributes, VERSION] : [...attributes];
    return model.findByPk(id, { attributes: columns, lock: Transaction.LOCK.UPDATE });
  }
}

const VERSION = 'version';

/** 412 when the request's If-Match names another version of the row (after the policy: a refusal comes first). */
function assertPrecondition(model: ModelCtor, row: Model): void {
  const condition = currentWritePrecondition();
  if (!condition || condition.any) return;
  const resource = `${model.name} ${String(row.get('id'))}`;
  if (!isVersioned(model)) return assertNoEntityTag(resource);
  const current = entityTag({ id: row.get('id') as number, version: row.get(VERSION) as number });
  if (!ifMatchHolds(condition, current)) throw new StaleEntityTagException(resource, current);
}

function assertNoEntityTag(resource: string): void {
  const condition = currentWritePrecondition();
  if (condition && !condition.any) throw new PreconditionFailedException(`${resource} has no entity tag: If-Match can only be *`);
}
