/**
 * users table (see migrations/20261124000001-create-users.js). Emails are
 * normalised here, in hooks, for every write path: instance create/update,
 * static update and bulkCreate (which skips per-row hooks by default).
 */
import type { Optional, UpdateOptions } from 'sequelize';
import {
  BeforeBulkCreate,
  BeforeBulkUpdate,
  BeforeCreate,
  BeforeUpdate,
  BeforeValidate,
  Column,
  CreatedAt,
  DataType,
  DefaultScope,
  DeletedAt,
  Model,
  Scopes,
  Table,
  UpdatedAt,
} from 'sequelize-typescript';
import { Audited } from '../../audit/audit-trail';
import { ROLES, type Role } from '../../common/access/actor';
import { EMAIL_MAX_LENGTH, normaliseEmail } from '../../common/validation/email';
import { lengthInCharacters } from '../../common/validation/text';

export const USER_ROLES = ROLES;
export type UserRole = Role;

export interface UserAttributes {
  id: number;
  name: string;
  email: string;
  role: UserRole;
  /** argon2id; null for an account that cannot log in. Never leaves the users module. */
  passwordHash: string | null;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
  /** Optimistic locking: incremented by every write through the model; the ETag is derived from it. */
  version: number;
}

export type UserCreationAttributes = Optional<UserAttributes, 'id' | 'role' | 'passwordHash' | 'createdAt' | 'updatedAt' | 'deletedAt' | 'version'>;

/** The columns the API exposes (version as the ETag); everything else (passwordHash, deletedAt) stays internal. */
export const USER_PUBLIC_ATTRIBUTES = ['id', 'name', 'email', 'role', 'createdAt', 'updatedAt', 'version'] as const;

export { normaliseEmail };

// The hash is read only where a password is checked, by naming the column explicitly; the audit trail records that
// it changed, never its value.
@Audited({ secrets: { passwordHash: 'password' } })
@DefaultScope(() => ({ attributes: { exclude: ['passwordHash'] } }))
@Scopes(() => ({
  withRole: (role: UserRole) => ({ where: { role } }),
  withEmail: (email: string) => ({ where: { email: normaliseEmail(email) } }),
}))
@Table({
  tableName: 'users',
  paranoid: true,
  version: true,
  whereMergeStrategy: 'and',
  // Mirrors the migrations (test/schema.e2e-spec.ts fails when they drift apart).
  indexes: [
    { name: 'users_email_live_unique', unique: true, fields: ['email'], where: { deletedAt: null } },
    { name: 'users_created_at_id_live', fields: ['createdAt', 'id'], where: { deletedAt: null } },
  ],
})
export class User extends Model<UserAttributes, UserCreationAttributes> {
  @Column({ type: DataType.INTEGER, primaryKey: true, autoIncrement: true })
  declare id: number;

  @Column({ type: DataType.STRING(100), allowNull: false, validate: { charLength: lengthInCharacters(2, 100) } })
  declare name: string;

  @Column({ type: DataType.STRING(255), allowNull: false, validate: { isEmail: true, charLength: lengthInCharacters(3, EMAIL_MAX_LENGTH) } })
  declare email: string;

  @Column({ type: DataType.ENUM(...USER_ROLES), allowNull: false, defaultValue: 'user' })
  declare role: UserRole;

  @Column({ type: DataType.STRING(255), allowNull: true })
  declare passwordHash: string | null;

  @CreatedAt
  declare createdAt: Date;

  @UpdatedAt
  declare updatedAt: Date;

  @DeletedAt
  declare deletedAt: Date | null;

  declare version: number;

  /** Whatever was loaded, the hash is never serialised. */
  override toJSON<T extends object>(): T {
    const { passwordHash: _hidden, ...values } = super.toJSON<UserAttributes>();
    return values as T;
  }

  // beforeValidate so that the validators see the stored form; create/update
  // as well because callers may pass `validate: false`.
  @BeforeValidate
  @BeforeCreate
  @BeforeUpdate
  static normaliseInstanceEmail(user: User): void {
    if (typeof user.email === 'string') user.email = normaliseEmail(user.email);
  }

  @BeforeBulkCreate
  static normaliseBulkEmails(users: User[]): void {
    for (const user of users) User.normaliseInstanceEmail(user);
  }

  @BeforeBulkUpdate
  static normaliseBulkUpdateEmail(options: UpdateOptions<UserAttributes> & { attributes?: Partial<UserAttributes> }): void {
    if (typeof options.attributes?.email === 'string') options.attributes.email = normaliseEmail(options.attributes.email);
  }
}
