/** audit_events table (see migrations/20261203000001-create-audit-events.js): read by AuditRepository only. */
import { Column, CreatedAt, DataType, Model, Table } from 'sequelize-typescript';

export const AUDIT_ACTIONS = ['create', 'update', 'delete', 'restore'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEventAttributes {
  id: string;
  actorId: number | null;
  action: AuditAction;
  tableName: string;
  rowId: string;
  changes: Record<string, unknown>;
  requestId: string | null;
  createdAt: Date;
}

@Table({
  tableName: 'audit_events',
  updatedAt: false,
  // Mirrors the migrations (test/schema.e2e-spec.ts fails when they drift apart).
  indexes: [
    { name: 'audit_events_table_row_id', fields: ['tableName', 'rowId', 'id'] },
    { name: 'audit_events_table_id', fields: ['tableName', 'id'] },
  ],
})
export class AuditEvent extends Model<AuditEventAttributes> {
  @Column({ type: DataType.BIGINT, primaryKey: true, autoIncrement: true })
  declare id: string;

  @Column({ type: DataType.INTEGER, allowNull: true })
  declare actorId: number | null;

  @Column({ type: DataType.STRING(16), allowNull: false })
  declare action: AuditAction;

  @Column({ type: DataType.STRING(63), allowNull: false })
  declare tableName: string;

  @Column({ type: DataType.STRING(64), allowNull: false })
  declare rowId: string;

  @Column({ type: DataType.JSONB, allowNull: false })
  declare changes: Record<string, unknown>;

  @Column({ type: DataType.STRING(64), allowNull: true })
  declare requestId: string | null;

  @CreatedAt
  declare createdAt: Date;
}
