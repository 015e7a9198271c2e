/**
 * The `users` table: the only code that reads or writes it. Writes go through the model, so its hooks run (email
 * normalisation, the audit trail, the cascades declared by child models); the hot single-row reads are one bound
 * statement each.
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import { Transaction } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { badBulkRows } from '../common/database/bulk-errors';
import { Repository } from '../common/database/repository';
import type { FoundPage, PageWindow } from '../common/pagination/paginator';
import type { UserRow } from './dto/user-summary.dto';
import { normaliseEmail, User, USER_PUBLIC_ATTRIBUTES, type UserAttributes, type UserCreationAttributes, type UserRole } from './models/user.model';

// The by-id read, GET /users/:id and every token refresh: one bound statement, no model instance. The columns are
// USER_PUBLIC_ATTRIBUTES; "deletedAt" IS NULL is the model's paranoid filter.
const USER_COLUMNS = USER_PUBLIC_ATTRIBUTES.map((name) => `"${name}"`).join(', ');
const USER_BY_ID_SQL = `SELECT ${USER_COLUMNS} FROM users WHERE id = $1 AND "deletedAt" IS NULL`;
const PASSWORD_HASH_SQL = 'SELECT "passwordHash" FROM users WHERE id = $1 AND "deletedAt" IS NULL';
const CREDENTIALS_SQL = `SELECT ${USER_COLUMNS}, "passwordHash" FROM users WHERE email = $1 AND "deletedAt" IS NULL`;

export type UserChanges = Partial<Pick<UserAttributes, 'name' | 'email' | 'role' | 'passwordHash'>>;

export interface UserFilter {
  readonly role?: UserRole;
  readonly email?: string;
}

@Injectable()
export class UsersRepository extends Repository {
  constructor(
    @InjectModel(User) private readonly users: typeof User,
    sequelize: Sequelize,
  ) {
    super(sequelize);
  }

  /** A taken email fails on the partial unique index (UniqueConstraintError: the filter answers 409). */
  async create(values: UserCreationAttributes): Promise<UserRow> {
    await this.ready();
    return publicRow(await this.users.create(values));
  }

  /** `fromPrimary`: for who a caller is (a token refresh), which a lagging read replica must not answer. */
  async findLive(id: number, options: { fromPrimary?: boolean } = {}): Promise<UserRow | null> {
    return this.selectOne<UserRow>(USER_BY_ID_SQL, [id], options);
  }

  /** From the primary: a changed password, a deleted account or a new role counts at the next login. */
  async findWithPasswordByEmail(email: string): Promise<(UserRow & { passwordHash: string | null }) | null> {
    return this.selectOne(CREDENTIALS_SQL, [normaliseEmail(email)], { fromPrimary: true });
  }

  async passwordHash(id: number): Promise<string | null> {
    return (await this.selectOne<{ passwordHash: string | null }>(PASSWORD_HASH_SQL, [id], { fromPrimary: true }))?.passwordHash ?? null;
  }

  async exists(id: number): Promise<boolean> {
    return (await this.findLive(id)) !== null;
  }

  async page(filter: UserFilter, window: PageWindow): Promise<FoundPage<UserRow>> {
    const scopes: Array<{ method: [string, ...unknown[]] }> = [];
    if (filter.role !== undefined) scopes.push({ method: ['withRole', filter.role] });
    if (filter.email !== undefined) scopes.push({ method: ['withEmail', filter.email] });
    return this.findPage(this.scoped(this.users, scopes), { attributes: [...USER_PUBLIC_ATTRIBUTES], raw: true }, window);
  }

  /**
   * Changes a live user, row locked first: the new row and the role it had before (a role that changed ends the
   * user's sessions), or null when there is no such user.
   */
  async update(id: number, changes: UserChanges): Promise<{ row: UserRow; previousRole: UserRole } | null> {
    let previousRole: UserRole | undefined;
    const user = await this.updateLocked(this.users, id, USER_PUBLIC_ATTRIBUTES, (row) => {
      previousRole = row.role;
      return changes;
    });
    return user && { row: publicRow(user), previousRole: previousRole! };
  }

  /** Soft-deletes a live user (and, by the posts' declaration, its posts): false when there is none. */
  async remove(id: number): Promise<boolean> {
    return this.deleteLocked(this.users, id, ['id'], () => undefined);
  }

  /** A user whether deleted or not, with its deletedAt, locked until the transaction ends (a restore decides on it). */
  async lockAny(id: number): Promise<(UserRow & { deletedAt: Date | null }) | null> {
    await this.ready();
    return (await this.users.findByPk(id, {
      attributes: [...USER_PUBLIC_ATTRIBUTES, 'deletedAt'],
      paranoid: false,
      lock: Transaction.LOCK.UPDATE,
      raw: true,
    })) as
      | (UserRow & { deletedAt: Date | null })
      | null;
  }

  /** Brings back a user deleted at `deletedAt`, with what was deleted with it. A taken email: UniqueConstraintError. */
  async restore(id: number, deletedAt: Date): Promise<boolean> {
    return (await this.restoreDeleted(this.users, { id }, deletedAt)) > 0;
  }

  /**
   * One INSERT … ON CONFLICT for the whole batch. The unique index on email is partial (live users only), so the
   * ON CONFLICT clause repeats its predicate (`conflictWhere`), or PostgreSQL would find no index to infer.
   * Rows are inserted in email order so that concurrent batches lock shared addresses in the same order and
   * cannot deadlock each other. Returns the stored rows by email.
   */
  async upsertByEmail(rows: ReadonlyArray<UserCreationAttributes & { email: string }>): Promise<Map<string, UserRow>> {
    await this.ready();
    const ordered = [...rows].sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
    const saved = await this.users
      .bulkCreate(ordered, {
        validate: true,
        conflictAttributes: ['email'],
        conflictWhere: { deletedAt: null },
        updateOnDuplicate: ['name', 'updatedAt'],
        returning: [...USER_PUBLIC_ATTRIBUTES],
      })
      .catch((error: unknown) => {
        throw badBulkRows(error, 'users', (record) => rows.findIndex((row) => row.email === record.email));
      });
    // Keyed by the returned email, not by position: RETURNING order is not part of PostgreSQL's contract.
    return new Map(saved.map((user) => [user.email, publicRow(user)]));
  }
}

function publicRow(user: User): UserRow {
  const { id, name, email, role, createdAt, updatedAt, version } = user.get();
  return { id, name, email, role, createdAt, updatedAt, version };
}
