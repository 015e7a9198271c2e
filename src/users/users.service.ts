/**
 * Users: CRUD, the list with optional embedded posts, soft delete/restore that
 * cascade to the user's posts, and the top-authors report.
 */
import { BadRequestException, ConflictException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import { QueryTypes, UniqueConstraintError } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import type { Actor } from '../common/access/actor';
import { enforce } from '../common/access/access';
import { pooledSelect } from '../common/database/pooled-select';
import { inTransaction } from '../common/database/transaction-context';
import { toPage, type Page } from '../common/pagination/page.dto';
import { toOrder } from '../common/pagination/sort';
import type { UserPostsQueryDto } from '../posts/dto/post-query.dto';
import type { PostResponseDto } from '../posts/dto/post-response.dto';
import { PostsService } from '../posts/posts.service';
import { SessionsService } from '../sessions/sessions.service';
import type { CreateAccountDto } from './dto/create-user.dto';
import type { TopAuthorDto } from './dto/top-author.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { DEFAULT_POSTS_LIMIT, defaultPostsLimit, USER_SORT_FIELDS, type ListUsersQueryDto, type UserIncludeQueryDto } from './dto/user-query.dto';
import { toUserResponse, type UserResponseDto, type UserRow } from './dto/user-response.dto';
import { normaliseEmail, User, USER_PUBLIC_ATTRIBUTES, type UserRole } from './models/user.model';
import { PasswordHasher } from './password-hasher';
import { UsersPolicy } from './users.policy';

// Live users only, each with its number of live published posts (drafts are not anyone else's business, not even
// as a count); `::int` so pg returns a number, not a bigint string.
const TOP_AUTHORS_SQL = `
  SELECT u.id, u.name, COUNT(p.id)::int AS "postCount"
  FROM users u
  LEFT JOIN posts p ON p."authorId" = u.id AND p."deletedAt" IS NULL AND p.published
  WHERE u."deletedAt" IS NULL
  GROUP BY u.id
  ORDER BY "postCount" DESC, u.id ASC
  LIMIT $1`;

// The hot single-row paths as one bound statement each, through `sequelize.query`: the model methods (findByPk →
// findAll, update) clone their options with lodash, build model instances and run hooks on every call, which was most
// of the app's own CPU per request (bench/README.md). The columns are USER_PUBLIC_ATTRIBUTES; "deletedAt" IS NULL is
// the model's paranoid filter; what the model's hooks did (email normalisation) the service does before binding.
const USER_COLUMNS = USER_PUBLIC_ATTRIBUTES.map((name) => `"${name}"`).join(', ');
const USER_BY_ID_SQL = `SELECT ${USER_COLUMNS} FROM users WHERE id = $1 AND "deletedAt" IS NULL`;
// A PATCH never sends null (the DTO rejects it), so NULL here means "leave the column as it is". The row is locked
// and read before the update in the same statement, so the previous role comes back with the new row: a role that
// actually changed ends the user's sessions.
const UPDATE_USER_SQL = `
  UPDATE users u SET
    name = COALESCE($2::varchar, u.name),
    email = COALESCE($3::varchar, u.email),
    role = COALESCE($4::enum_users_role, u.role),
    "passwordHash" = COALESCE($5::varchar, u."passwordHash"),
    "updatedAt" = $6
  FROM (SELECT id, role FROM users WHERE id = $1 AND "deletedAt" IS NULL FOR UPDATE) previous
  WHERE u.id = previous.id
  RETURNING ${USER_PUBLIC_ATTRIBUTES.map((name) => `u."${name}"`).join(', ')}, previous.role AS "previousRole"`;
const PASSWORD_HASH_SQL = 'SELECT "passwordHash" FROM users WHERE id = $1 AND "deletedAt" IS NULL';
const CREDENTIALS_SQL = `SELECT ${USER_COLUMNS}, "passwordHash" FROM users WHERE email = $1 AND "deletedAt" IS NULL`;

/** What registration stores: the hash is computed before, outside any transaction. */
export interface NewAccount {
  readonly name: string;
  readonly email: string;
  readonly passwordHash: string;
}

@Injectable()
export class UsersService {
  constructor(
    @InjectModel(User) private readonly users: typeof User,
    private readonly posts: PostsService,
    private readonly sessions: SessionsService,
    private readonly passwords: PasswordHasher,
    private readonly sequelize: Sequelize,
  ) {}

  /** POST /users (admins): any role, a password optional. */
  async create(actor: Actor | undefined, dto: CreateAccountDto): Promise<UserResponseDto> {
    enforce(UsersPolicy.manage(actor), { action: 'create users', resource: 'User' });
    const passwordHash = dto.password === undefined ? null : await this.passwords.hash(dto.password);
    // A taken email fails on the partial unique index; the global filter answers 409.
    const user = await this.users.create({ name: dto.name, email: dto.email, role: dto.role, passwordHash });
    return toUserResponse(user.get(), actor);
  }

  /** Self-registration: always the `user` role. */
  async createAccount(account: NewAccount): Promise<UserRow> {
    const user = await this.users.create({ ...account, role: 'user' });
    return user.get();
  }

  hashPassword(password: string): Promise<string> {
    return this.passwords.hash(password);
  }

  /** The live user with this email and password, or null; the same work whether the email exists or not. */
  async verifyCredentials(email: string, password: string): Promise<UserRow | null> {
    const row = await this.sequelize.query<UserRow & { passwordHash: string | null }>(CREDENTIALS_SQL, {
      bind: [normaliseEmail(email)],
      type: QueryTypes.SELECT,
      plain: true,
    });
    const valid = await this.passwords.verify(row?.passwordHash, password);
    if (!row || !valid) return null;
    const { passwordHash: _hash, ...user } = row;
    return user;
  }

  /** A live user by id, as stored (for the auth module, which renders it for its owner). */
  async findLive(id: number): Promise<UserRow | null> {
    const [row] = await pooledSelect<UserRow>(this.sequelize, USER_BY_ID_SQL, [id]);
    return row ?? null;
  }

  async findAll(actor: Actor | undefined, query: ListUsersQueryDto): Promise<Page<UserResponseDto>> {
    const scopes: Array<{ method: [string, ...unknown[]] }> = [];
    if (query.role !== undefined) scopes.push({ method: ['withRole', query.role] });
    const order = toOrder(query.sort, USER_SORT_FIELDS);
    if (query.email !== undefined || order.some(([field]) => field === 'email')) {
      enforce(UsersPolicy.queryByEmail(actor), { action: 'filter or sort users by email', resource: 'User' });
    }
    if (query.email !== undefined) scopes.push({ method: ['withEmail', query.email] });
    const filtered = scopes.length > 0 ? this.users.scope(scopes) : this.users;

    const total = await filtered.count();
    const rows = (await filtered.findAll({
      attributes: [...USER_PUBLIC_ATTRIBUTES],
      order,
      limit: query.limit,
      offset: query.offset,
      raw: true,
    })) as unknown as UserRow[];
    const data = rows.map((row) => toUserResponse(row, actor));
    if (query.include !== 'posts') return toPage(data, total, query);
    return toPage(await this.withPosts(actor, data, query, defaultPostsLimit(query.limit)), total, query);
  }

  /** One statement; with include=posts, one more for the posts. */
  async findOne(actor: Actor | undefined, id: number, query: UserIncludeQueryDto = {}): Promise<UserResponseDto> {
    const row = await this.findLive(id);
    if (!row) throw new NotFoundException(`User ${id} not found`);
    const user = toUserResponse(row, actor);
    if (query.include !== 'posts') return user;
    const [withPosts] = await this.withPosts(actor, [user], query, DEFAULT_POSTS_LIMIT);
    return withPosts;
  }

  /** include=posts: each user's newest posts the actor may see, and how many there are, in one statement for all. */
  private async withPosts(
    actor: Actor | undefined,
    users: UserResponseDto[],
    query: UserIncludeQueryDto,
    defaultLimit: number,
  ): Promise<UserResponseDto[]> {
    const byUser = await this.posts.latestByAuthors(
      actor,
      users.map((user) => user.id),
      { limit: query.postsLimit ?? defaultLimit, published: query.published },
    );
    return users.map((user) => ({ ...user, ...byUser.get(user.id)! }));
  }

  async update(actor: Actor | undefined, id: number, dto: UpdateUserDto): Promise<UserResponseDto> {
    enforce(UsersPolicy.update(actor, id, dto), { action: dto.role === undefined ? `change user ${id}` : `change the role of user ${id}`, resource: `User ${id}` });
    const passwordHash = await this.newPasswordHash(actor!, id, dto);
    if (dto.name === undefined && dto.email === undefined && dto.role === undefined && passwordHash === null) return this.findOne(actor, id);
    const email = dto.email === undefined ? null : normaliseEmail(dto.email);
    // A taken email fails on the partial unique index (UniqueConstraintError): the global filter answers 409.
    const row = await this.sequelize.query<UserRow & { previousRole: UserRole }>(UPDATE_USER_SQL, {
      bind: [id, dto.name ?? null, email, dto.role ?? null, passwordHash, new Date()],
      type: QueryTypes.SELECT,
      plain: true,
    });
    if (!row) throw new NotFoundException(`User ${id} not found`);
    // In the request's transaction: if anything later fails, the sessions stay as they were.
    if (passwordHash !== null || row.previousRole !== row.role) await this.sessions.revokeAllForUser(id);
    return toUserResponse(row, actor);
  }

  /** Soft-deletes the user and its live posts with one timestamp, which restore uses to find them again. */
  async remove(actor: Actor | undefined, id: number): Promise<void> {
    enforce(UsersPolicy.delete(actor, id), { action: `delete user ${id}`, resource: `User ${id}` });
    await inTransaction(this.sequelize, async () => {
      // Set from JS (millisecond precision) so the value read back compares equal.
      const deletedAt = new Date();
      const [count] = await this.users.update({ deletedAt }, { where: { id }, silent: true });
      if (count === 0) throw new NotFoundException(`User ${id} not found`);
      await this.posts.softDeleteByAuthor(id, deletedAt);
      await this.sessions.revokeAllForUser(id);
    });
  }

  /** Brings back the user and the posts deleted with it; posts deleted on their own stay deleted. */
  async restore(actor: Actor | undefined, id: number): Promise<UserResponseDto> {
    enforce(UsersPolicy.manage(actor), { action: 'restore users', resource: `User ${id}` });
    return inTransaction(this.sequelize, async () => {
      const user = (await this.users.findByPk(id, {
        attributes: [...USER_PUBLIC_ATTRIBUTES, 'deletedAt'],
        paranoid: false,
        raw: true,
      })) as (UserRow & { deletedAt: Date | null }) | null;
      if (!user) throw new NotFoundException(`User ${id} not found`);
      if (user.deletedAt === null) return toUserResponse(user, actor);

      try {
        await this.users.update(
          { deletedAt: null },
          { where: { id, deletedAt: user.deletedAt }, paranoid: false, silent: true },
        );
      } catch (error) {
        if (error instanceof UniqueConstraintError) {
          throw new ConflictException(`email ${user.email} has been taken by another user since user ${id} was deleted`);
        }
        throw error;
      }
      await this.posts.restoreByAuthor(id, user.deletedAt);
      return toUserResponse(user, actor);
    });
  }

  /** GET /users/:id/posts: 404 for a missing user rather than an empty page. */
  async findPosts(actor: Actor | undefined, id: number, query: UserPostsQueryDto): Promise<Page<PostResponseDto>> {
    await this.assertExists(id);
    return this.posts.findAll(actor, { ...query, authorId: id });
  }

  async topAuthors(limit: number): Promise<{ data: TopAuthorDto[] }> {
    const data = await this.sequelize.query<TopAuthorDto>(TOP_AUTHORS_SQL, { bind: [limit], type: QueryTypes.SELECT });
    return { data };
  }

  /**
   * The hash to store for a password change, or null when the password stays. Changing one's own password needs
   * the current one (403 when wrong); an admin resetting another user's does not.
   */
  private async newPasswordHash(actor: Actor, id: number, dto: UpdateUserDto): Promise<string | null> {
    if (dto.password === undefined) {
      if (dto.currentPassword !== undefined) throw new BadRequestException(['currentPassword is only accepted together with password']);
      return null;
    }
    if (UsersPolicy.needsCurrentPassword(actor, id)) {
      if (dto.currentPassword === undefined) throw new BadRequestException(['currentPassword is required to change your password']);
      const stored = await this.sequelize.query<{ passwordHash: string | null }>(PASSWORD_HASH_SQL, { bind: [id], type: QueryTypes.SELECT, plain: true });
      if (!(await this.passwords.verify(stored?.passwordHash, dto.currentPassword))) throw new ForbiddenException('currentPassword is not your current password');
    }
    return this.passwords.hash(dto.password);
  }

  private async assertExists(id: number): Promise<void> {
    const row = await this.users.findByPk(id, { attributes: ['id'], raw: true });
    if (!row) throw new NotFoundException(`User ${id} not found`);
  }
}
