/**
 * refresh_tokens table: every refresh token a session was given, by the SHA-256 of the token (the token itself is
 * never stored). `replacedAt` is set when the token is rotated; a replaced token presented again is a reuse.
 */
import type { Optional } from 'sequelize';
import { BelongsTo, Column, CreatedAt, DataType, ForeignKey, Model, Table } from 'sequelize-typescript';
import { Session } from './session.model';

export interface RefreshTokenAttributes {
  tokenHash: string;
  sessionId: string;
  expiresAt: Date;
  replacedAt: Date | null;
  createdAt: Date;
}

export type RefreshTokenCreationAttributes = Optional<RefreshTokenAttributes, 'replacedAt' | 'createdAt'>;

@Table({
  tableName: 'refresh_tokens',
  updatedAt: false,
  indexes: [{ name: 'refresh_tokens_session_id', fields: ['sessionId'] }],
})
export class RefreshToken extends Model<RefreshTokenAttributes, RefreshTokenCreationAttributes> {
  @Column({ type: DataType.STRING(64), primaryKey: true })
  declare tokenHash: string;

  @ForeignKey(() => Session)
  @Column({ type: DataType.UUID, allowNull: false })
  declare sessionId: string;

  @Column({ type: DataType.DATE, allowNull: false })
  declare expiresAt: Date;

  @Column({ type: DataType.DATE, allowNull: true })
  declare replacedAt: Date | null;

  @CreatedAt
  declare createdAt: Date;

  @BelongsTo(() => Session, { as: 'session', foreignKey: 'sessionId', onDelete: 'CASCADE' })
  declare session?: Session;
}
