/** idempotency_keys table (see migrations/20261204000002-create-idempotency-keys.js): IdempotencyRepository only. */
import type { Optional } from 'sequelize';
import { Column, CreatedAt, DataType, Model, Table } from 'sequelize-typescript';

export interface IdempotencyKeyAttributes {
  actorId: number;
  key: string;
  route: string;
  fingerprint: string;
  status: number;
  body: unknown;
  createdAt: Date;
  expiresAt: Date;
}

@Table({
  tableName: 'idempotency_keys',
  updatedAt: false,
  // Mirrors the migrations (test/schema.e2e-spec.ts fails when they drift apart).
  indexes: [{ name: 'idempotency_keys_expires_at', fields: ['expiresAt'] }],
})
export class IdempotencyKey extends Model<IdempotencyKeyAttributes, Optional<IdempotencyKeyAttributes, 'createdAt'>> {
  @Column({ type: DataType.INTEGER, primaryKey: true })
  declare actorId: number;

  @Column({ type: DataType.STRING(255), primaryKey: true })
  declare key: string;

  @Column({ type: DataType.STRING(512), allowNull: false })
  declare route: string;

  @Column({ type: DataType.STRING(64), allowNull: false })
  declare fingerprint: string;

  @Column({ type: DataType.INTEGER, allowNull: false })
  declare status: number;

  @Column({ type: DataType.JSON, allowNull: true })
  declare body: unknown;

  @CreatedAt
  declare createdAt: Date;

  @Column({ type: DataType.DATE, allowNull: false })
  declare expiresAt: Date;
}
