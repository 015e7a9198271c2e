/**
 * The audit trail: `@Audited()` on a model makes every write through it, whatever the path (create, bulkCreate,
 * instance update, static update, soft delete and restore, cascades), record one audit_events row per changed row,
 * in the statement's transaction: rolled back with it. Hooks installed once on the Sequelize instance do the work,
 * so a model only declares which of its fields are secret (their values are never written, only that they changed).
 *
 * A multi-row statement records its rows in one INSERT: the per-row hooks collect, the statement's `afterBulk…` hook
 * writes. To see the rows of a static update or destroy, the hooks turn on Sequelize's `individualHooks` for audited
 * models, which reads the matching rows first (one SELECT for the statement).
 *
 * Who and which request: the request transaction's context (actor id, request id); nulls outside a request.
 */
import type { Model, ModelStatic, Transaction } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';
import { wasUpdated } from '../common/database/row-versions';
import { currentAuditContext } from '../common/database/transaction-context';
import type { AuditAction } from './models/audit-event.model';
import { writeAuditEvents, type NewAuditEvent } from './audit.repository';

export interface AuditedOptions {
  /**
   * Fields whose values must never reach the trail, each with the name the trail gives it: `{ passwordHash:
   * 'password' }` records `"password": "[redacted]"` when a hash is set, and nothing while it is null.
   */
  readonly secrets?: Readonly<Record<string, string>>;
}

const audited = new WeakMap<object, AuditedOptions>();

/** On a model: its writes are recorded in audit_events. */
export function Audited(options: AuditedOptions = {}): ClassDecorator {
  return (target) => {
    audited.set(target, options);
  };
}

const REDACTED = '[redacted]';
/** Bookkeeping, not changes: the row's own timestamps and optimistic-locking version. */
const UNRECORDED = new Set(['createdAt', 'updatedAt', 'version']);

/** Per statement: the rows its per-row hooks saw, written by its afterBulk hook. */
const COLLECTED = Symbol('audit rows');
/** Per single-row save: the change seen before the UPDATE, written after it. */
const PENDING = Symbol('audit row');
type AuditOptions = { transaction?: Transaction | null; model?: ModelStatic<Model>; individualHooks?: boolean; [COLLECTED]?: NewAuditEvent[]; [PENDING]?: NewAuditEvent };

export function installAuditTrail(sequelize: Sequelize): void {
  const settingsOf = (model: ModelStatic<Model> | undefined) => (model ? audited.get(model) : undefined);
  const write = (events: NewAuditEvent[], options: AuditOptions) =>
    events.length === 0 ? undefined : writeAuditEvents(sequelize, events, options.transaction ?? undefined);

  sequelize.addHook('afterCreate', 'audit', async (instance: Model, options: AuditOptions) => {
    const settings = settingsOf(instance.constructor as ModelStatic<Model>);
    if (settings) await write([created(instance, settings)], options);
  });

  sequelize.addHook('afterBulkCreate', 'audit', async (instances: Model[], options: AuditOptions & { updateOnDuplicate?: string[] }) => {
    const settings = settingsOf(options.model);
    if (!settings) return;
    const upserted = options.updateOnDuplicate?.filter((field) => !UNRECORDED.has(field));
    await write(
      instances.map((instance) => (upserted && wasUpdated(instance) ? row(instance, 'update', recorded(upserted, instance.get({ plain: true }), settings)) : created(instance, settings))),
      options,
    );
  });

  // Static update and destroy: read the rows so each gets its row.
  for (const hook of ['beforeBulkUpdate', 'beforeBulkDestroy'] as const) {
    sequelize.addHook(hook, 'audit', (options: AuditOptions) => {
      if (!settingsOf(options.model)) return;
      options.individualHooks = true;
      options[COLLECTED] = [];
    });
  }

  sequelize.addHook('beforeUpdate', 'audit', (instance: Model, options: AuditOptions) => {
    const settings = settingsOf(instance.constructor as ModelStatic<Model>);
    if (!settings) return;
    const event = changed(instance, settings);
    if (!event) return;
    if (options[COLLECTED]) options[COLLECTED].push(event);
    else options[PENDING] = event;
  });

  sequelize.addHook('afterUpdate', 'audit', async (_instance: Model, options: AuditOptions) => {
    const event = options[PENDING];
    if (!event || options[COLLECTED]) return;
    delete options[PENDING];
    await write([event], options);
  });

  sequelize.addHook('afterDestroy', 'audit', async (instance: Model, options: AuditOptions) => {
    const settings = settingsOf(instance.constructor as ModelStatic<Model>);
    if (!settings) return;
    const event = row(instance, 'delete', {});
    if (options[COLLECTED]) options[COLLECTED].push(event);
    else await write([event], options);
  });

  for (const hook of ['afterBulkUpdate', 'afterBulkDestroy'] as const) {
    sequelize.addHook(hook, 'audit', async (options: AuditOptions) => {
      const events = options[COLLECTED];
      if (!events) return;
      delete options[COLLECTED];
      await write(events, options);
    });
  }
}

function created(instance: Model, settings: AuditedOptions): NewAuditEvent {
  const values = instance.get({ plain: true }) as Record<string, unknown>;
  const model = instance.constructor as ModelStatic<Model>;
  const fields = Object.keys(values).filter((field) => !UNRECORDED.has(field) && field !== 'deletedAt' && !model.primaryKeyAttributes.includes(field));
  return row(instance, 'create', recorded(fields, values, settings));
}

/** The fields an update changes, or null when it changes none but bookkeeping. */
function changed(instance: Model, settings: AuditedOptions): NewAuditEvent | null {
  const fields = ((instance.changed() || []) as string[]).filter((field) => !UNRECORDED.has(field));
  if (fields.length === 0) return null;
  const values = instance.get({ plain: true }) as Record<string, unknown>;
  let action: AuditAction = 'update';
  if (fields.includes('deletedAt')) action = values.deletedAt === null ? 'restore' : 'delete';
  return row(instance, action, recorded(fields, values, settings));
}

function recorded(fields: string[], values: Record<string, unknown>, settings: AuditedOptions): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const field of fields) {
    const secret = settings.secrets?.[field];
    if (secret === undefined) changes[field] = values[field];
    else if (values[field] !== null && values[field] !== undefined) changes[secret] = REDACTED;
  }
  return changes;
}

function row(instance: Model, action: AuditAction, changes: Record<string, unknown>): NewAuditEvent {
  const model = instance.constructor as ModelStatic<Model>;
  const { actorId, requestId } = currentAuditContext();
  return {
    actorId,
    action,
    tableName: model.getTableName() as string,
    rowId: model.primaryKeyAttributes.map((key) => String(instance.get(key))).join(':'),
    changes,
    requestId,
  };
}
