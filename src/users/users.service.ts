/**
 * Users: the rules of CRUD, the list with optional embedded posts, soft delete and restore (the posts follow by
 * their own declaration), and the top-authors report. Data goes through UsersRepository.
 */
import { BadRequestException, ConflictException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { UniqueConstraintError } from 'sequelize';
import type { Actor } from '../common/access/actor';
import { enforce } from '../common/access/access';
import { withEntityTag } from '../common/http/entity-tag';
import type { Page } from '../common/pagination/page.dto';
import { Paginator } from '../common/pagination/paginator';
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
import { normaliseEmail } from './models/user.model';
import { PasswordHasher } from './password-hasher';
import { UsersPolicy } from './users.policy';
import { UsersRepository, type UserChanges } from './users.repository';

/** What registration stores: the hash is computed before, outside any transaction. */
export interface NewAccount {
  readonly name: string;
  readonly email: string;
  readonly passwordHash: string;
}

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly posts: PostsService,
    private readonly sessions: SessionsService,
    private readonly passwords: PasswordHasher,
    private readonly pages: Paginator,
  ) {}

  /** POST /users (admins): any role, a password optional. */
  async create(actor: Actor | undefined, dto: CreateAccountDto): Promise<UserResponseDto> {
    enforce(UsersPolicy.manage(actor), { action: 'create users', resource: 'User' });
    const passwordHash = dto.password === undefined ? null : await this.passwords.hash(dto.password);
    // A taken email fails on the partial unique index; the global filter answers 409.
    const user = await this.users.create({ name: dto.name, email: dto.email, role: dto.role, passwordHash });
    return toUserResponse(user, actor);
  }

  /** Self-registration: always the `user` role. */
  createAccount(account: NewAccount): Promise<UserRow> {
    return this.users.create({ ...account, role: 'user' });
  }

  hashPassword(password: string): Promise<string> {
    return this.passwords.hash(password);
  }

  /** The live user with this email and password, or null; the same work whether the email exists or not. */
  async verifyCredentials(email: string, password: string): Promise<UserRow | null> {
    const row = await this.users.findWithPasswordByEmail(email);
    const valid = await this.passwords.verify(row?.passwordHash, password);
    if (!row || !valid) return null;
    const { passwordHash: _hash, ...user } = row;
    return user;
  }

  /** A live user by id, as stored (for the auth module, which renders it for its owner). */
  findLive(id: number, options: { fromPrimary?: boolean } = {}): Promise<UserRow | null> {
    return this.users.findLive(id, options);
  }

  async findAll(actor: Actor | undefined, query: ListUsersQueryDto): Promise<Page<UserResponseDto>> {
    const order = toOrder(query.sort, USER_SORT_FIELDS);
    if (query.email !== undefined || order.some(([field]) => field === 'email')) {
      enforce(UsersPolicy.queryByEmail(actor), { action: 'filter or sort users by email', resource: 'User' });
    }
    const window = this.pages.window('users', query, order, { role: query.role, email: query.email === undefined ? undefined : normaliseEmail(query.email) });
    const found = await this.users.page({ role: query.role, email: query.email }, window);
    const data = found.rows.map((row) => toUserResponse(row, actor));
    if (query.include !== 'posts') return this.pages.page(data, found, window);
    return this.pages.page(await this.withPosts(actor, data, query, defaultPostsLimit(query.limit)), found, window);
  }

  /** One statement; with include=posts, one more for the posts. */
  async findOne(actor: Actor | undefined, id: number, query: UserIncludeQueryDto = {}): Promise<UserResponseDto> {
    const row = await this.findLive(id);
    if (!row) throw new NotFoundException(`User ${id} not found`);
    if (query.include !== 'posts') return userResource(row, actor);
    const [withPosts] = await this.withPosts(actor, [toUserResponse(row, actor)], query, DEFAULT_POSTS_LIMIT);
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
    const changes: UserChanges = {
      ...(dto.name !== undefined && { name: dto.name }),
      ...(dto.email !== undefined && { email: dto.email }),
      ...(dto.role !== undefined && { role: dto.role }),
      ...(passwordHash !== null && { passwordHash }),
    };
    // A taken email fails on the partial unique index (UniqueConstraintError): the global filter answers 409.
    const updated = await this.users.update(id, changes);
    if (!updated) throw new NotFoundException(`User ${id} not found`);
    // In the request's transaction: if anything later fails, the sessions stay as they were.
    if (passwordHash !== null || updated.previousRole !== updated.row.role) await this.sessions.revokeAllForUser(id);
    return userResource(updated.row, actor);
  }

  /** Soft-deletes the user; its posts follow (declared on the Post model), and its sessions end. */
  async remove(actor: Actor | undefined, id: number): Promise<void> {
    enforce(UsersPolicy.delete(actor, id), { action: `delete user ${id}`, resource: `User ${id}` });
    if (!(await this.users.remove(id))) throw new NotFoundException(`User ${id} not found`);
    await this.sessions.revokeAllForUser(id);
  }

  /** Brings back the user and what was deleted with it; posts deleted on their own stay deleted. */
  async restore(actor: Actor | undefined, id: number): Promise<UserResponseDto> {
    enforce(UsersPolicy.manage(actor), { action: 'restore users', resource: `User ${id}` });
    const user = await this.users.lockAny(id);
    if (!user) throw new NotFoundException(`User ${id} not found`);
    if (user.deletedAt === null) return toUserResponse(user, actor);
    try {
      await this.users.restore(id, user.deletedAt);
    } catch (error) {
      if (error instanceof UniqueConstraintError) {
        throw new ConflictException(`email ${user.email} has been taken by another user since user ${id} was deleted`);
      }
      throw error;
    }
    return toUserResponse(user, actor);
  }

  /** GET /users/:id/posts: 404 for a missing user rather than an empty page. */
  async findPosts(actor: Actor | undefined, id: number, query: UserPostsQueryDto): Promise<Page<PostResponseDto>> {
    await this.assertExists(id);
    return this.posts.findAll(actor, { ...query, authorId: id });
  }

  async topAuthors(limit: number): Promise<{ data: TopAuthorDto[] }> {
    return { data: await this.posts.topAuthors(limit) };
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
      if (!(await this.passwords.verify(await this.users.passwordHash(id), dto.currentPassword))) throw new ForbiddenException('currentPassword is not your current password');
    }
    return this.passwords.hash(dto.password);
  }

  private async assertExists(id: number): Promise<void> {
    if (!(await this.users.exists(id))) throw new NotFoundException(`User ${id} not found`);
  }
}

/**
 * The user as `actor` sees it, tagged for conditional requests when that is the whole row (the user themselves,
 * admins): a stranger's view leaves the email out, a different representation of the same version.
 */
function userResource(row: UserRow, actor: Actor | undefined): UserResponseDto {
  const user = toUserResponse(row, actor);
  return UsersPolicy.canReadEmail(actor, row.id) ? withEntityTag(user, row) : user;
}
