/** sessions table (see migrations/20261201000001-add-accounts-and-sessions.js): one row per login. */
import type { Optional } from 'sequelize';
import { Column, CreatedAt, DataType, Model, Table, UpdatedAt } from 'sequelize-typescript';

export interface SessionAttributes {
  id: string;
  userId: number;
  expiresAt: Date;
  revokedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type SessionCreationAttributes = Optional<SessionAttributes, 'revokedAt' | 'createdAt' | 'updatedAt'>;

@Table({
  tableName: 'sessions',
  // Mirrors the migrations (test/schema.e2e-spec.ts fails when they drift apart).
  indexes: [{ name: 'sessions_user_id_live', fields: ['userId'], where: { revokedAt: null } }],
})
export class Session extends Model<SessionAttributes, SessionCreationAttributes> {
  @Column({ type: DataType.UUID, primaryKey: true })
  declare id: string;

  // A foreign key to users in the schema; no association here: sessions never load their user.
  @Column({ type: DataType.INTEGER, allowNull: false })
  declare userId: number;

  @Column({ type: DataType.DATE, allowNull: false })
  declare expiresAt: Date;

  @Column({ type: DataType.DATE, allowNull: true })
  declare revokedAt: Date | null;

  @CreatedAt
  declare createdAt: Date;

  @UpdatedAt
  declare updatedAt: Date;
}
