/**
 * The audit_events table: the only code that touches it. Rows are written by the audit trail's hooks
 * (audit-trail.ts), in the transaction of the change they record, and read by admins through GET /audit.
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import { QueryTypes, type Transaction, type WhereOptions } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { Repository } from '../common/database/repository';
import type { FoundPage, PageWindow } from '../common/pagination/paginator';
import { AuditEvent, type AuditEventAttributes } from './models/audit-event.model';

export type NewAuditEvent = Omit<AuditEventAttributes, 'id' | 'createdAt'>;

// Every row of a statement in one INSERT, whatever their number: one array parameter per column.
const INSERT_SQL = `
  INSERT INTO audit_events ("actorId", action, "tableName", "rowId", changes, "requestId")
  SELECT * FROM unnest($1::int[], $2::varchar[], $3::varchar[], $4::varchar[], $5::jsonb[], $6::varchar[])`;

/** Called from model hooks, inside the statement's transaction (`transaction` undefined: the context's, if any). */
export async function writeAuditEvents(sequelize: Sequelize, events: readonly NewAuditEvent[], transaction: Transaction | undefined): Promise<void> {
  await sequelize.query(INSERT_SQL, {
    bind: [
      events.map((event) => event.actorId),
      events.map((event) => event.action),
      events.map((event) => event.tableName),
      events.map((event) => event.rowId),
      events.map((event) => JSON.stringify(event.changes)),
      events.map((event) => event.requestId),
    ],
    type: QueryTypes.INSERT,
    transaction,
  });
}

export interface AuditFilter {
  readonly table?: string;
  readonly rowId?: string;
}

@Injectable()
export class AuditRepository extends Repository {
  constructor(
    @InjectModel(AuditEvent) private readonly events: typeof AuditEvent,
    sequelize: Sequelize,
  ) {
    super(sequelize);
  }

  /** In the window's order (the service's: newest first). */
  async page(filter: AuditFilter, window: PageWindow): Promise<FoundPage<AuditEventAttributes>> {
    const where: WhereOptions<AuditEventAttributes> = {
      ...(filter.table !== undefined && { tableName: filter.table }),
      ...(filter.rowId !== undefined && { rowId: filter.rowId }),
    };
    return this.findPage(this.events, { where, raw: true }, window);
  }
}
