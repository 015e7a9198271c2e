/**
 * Users: CRUD, the list with optional embedded posts, soft delete/restore that
 * cascade to the user's posts, and the top-authors report.
 */
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import { QueryTypes, UniqueConstraintError } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { pooledSelect } from '../common/database/pooled-select';
import { toPage, type Page } from '../common/pagination/page.dto';
import { toOrder } from '../common/pagination/sort';
import type { UserPostsQueryDto } from '../posts/dto/post-query.dto';
import { toPostResponse, type PostResponseDto } from '../posts/dto/post-response.dto';
import { POST_PUBLIC_ATTRIBUTES } from '../posts/models/post.model';
import { PostsService } from '../posts/posts.service';
import { CreateUserDto } from './dto/create-user.dto';
import type { TopAuthorDto } from './dto/top-author.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { USER_SORT_FIELDS, type ListUsersQueryDto, type UserIncludeQueryDto } from './dto/user-query.dto';
import { toUserResponse, type UserResponseDto, type UserRow } from './dto/user-response.dto';
import { normaliseEmail, User, USER_PUBLIC_ATTRIBUTES } from './models/user.model';

// Live users only, each with its number of live posts; `::int` so pg returns a number, not a bigint string.
const TOP_AUTHORS_SQL = `
  SELECT u.id, u.name, COUNT(p.id)::int AS "postCount"
  FROM users u
  LEFT JOIN posts p ON p."authorId" = u.id AND p."deletedAt" IS NULL
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
// A PATCH never sends null (the DTO rejects it), so NULL here means "leave the column as it is".
const UPDATE_USER_SQL = `
  UPDATE users SET
    name = COALESCE($2::varchar, name),
    email = COALESCE($3::varchar, email),
    role = COALESCE($4::enum_users_role, role),
    "updatedAt" = $5
  WHERE id = $1 AND "deletedAt" IS NULL
  RETURNING ${USER_COLUMNS}`;

@Injectable()
export class UsersService {
  constructor(
    @InjectModel(User) private readonly users: typeof User,
    private readonly posts: PostsService,
    private readonly sequelize: Sequelize,
  ) {}

  async create(dto: CreateUserDto): Promise<UserResponseDto> {
    // A taken email fails on the partial unique index; the global filter answers 409.
    const user = await this.users.create({ name: dto.name, email: dto.email, role: dto.role });
    return toUserResponse(user.get());
  }

  async findAll(query: ListUsersQueryDto): Promise<Page<UserResponseDto>> {
    const scopes: Array<{ method: [string, ...unknown[]] }> = [];
    if (query.role !== undefined) scopes.push({ method: ['withRole', query.role] });
    if (query.email !== undefined) scopes.push({ method: ['withEmail', query.email] });
    const filtered = scopes.length > 0 ? this.users.scope(scopes) : this.users;

    const total = await filtered.count();
    const rows = (await filtered.findAll({
      attributes: [...USER_PUBLIC_ATTRIBUTES],
      order: toOrder(query.sort, USER_SORT_FIELDS),
      limit: query.limit,
      offset: query.offset,
      raw: true,
    })) as unknown as UserRow[];
    const data = rows.map(toUserResponse);

    if (query.include === 'posts') {
      // One query for the posts of the whole page, not one per user.
      const postsByUser = await this.posts.findByAuthors(
        data.map((user) => user.id),
        query.published,
      );
      for (const user of data) Object.assign(user, { posts: postsByUser.get(user.id) ?? [] });
    }
    return toPage(data, total, query);
  }

  /** One statement, with or without the embedded posts. */
  async findOne(id: number, query: UserIncludeQueryDto = {}): Promise<UserResponseDto> {
    if (query.include !== 'posts') {
      const [row] = await pooledSelect<UserRow>(this.sequelize, USER_BY_ID_SQL, [id]);
      if (!row) throw new NotFoundException(`User ${id} not found`);
      return toUserResponse(row);
    }

    // A primary-key lookup adds no LIMIT, so the hasMany join stays a single flat query.
    const user = await this.users.findByPk(id, {
      attributes: [...USER_PUBLIC_ATTRIBUTES],
      include: [
        {
          association: 'posts',
          attributes: [...POST_PUBLIC_ATTRIBUTES],
          required: false,
          ...(query.published !== undefined && { where: { published: query.published } }),
        },
      ],
      order: [
        ['posts', 'createdAt', 'DESC'],
        ['posts', 'id', 'DESC'],
      ],
    });
    if (!user) throw new NotFoundException(`User ${id} not found`);
    return { ...toUserResponse(user), posts: (user.posts ?? []).map((post) => toPostResponse(post)) };
  }

  async update(id: number, dto: UpdateUserDto): Promise<UserResponseDto> {
    if (dto.name === undefined && dto.email === undefined && dto.role === undefined) return this.findOne(id);
    const email = dto.email === undefined ? null : normaliseEmail(dto.email);
    // A taken email fails on the partial unique index (UniqueConstraintError): the global filter answers 409.
    const row = await this.sequelize.query<UserRow>(UPDATE_USER_SQL, {
      bind: [id, dto.name ?? null, email, dto.role ?? null, new Date()],
      type: QueryTypes.SELECT,
      plain: true,
    });
    if (!row) throw new NotFoundException(`User ${id} not found`);
    return toUserResponse(row);
  }

  /** Soft-deletes the user and its live posts with one timestamp, which restore uses to find them again. */
  async remove(id: number): Promise<void> {
    await this.sequelize.transaction(async () => {
      // Set from JS (millisecond precision) so the value read back compares equal.
      const deletedAt = new Date();
      const [count] = await this.users.update({ deletedAt }, { where: { id }, silent: true });
      if (count === 0) throw new NotFoundException(`User ${id} not found`);
      await this.posts.softDeleteByAuthor(id, deletedAt);
    });
  }

  /** Brings back the user and the posts deleted with it; posts deleted on their own stay deleted. */
  async restore(id: number): Promise<UserResponseDto> {
    return this.sequelize.transaction(async () => {
      const user = (await this.users.findByPk(id, {
        attributes: [...USER_PUBLIC_ATTRIBUTES, 'deletedAt'],
        paranoid: false,
        raw: true,
      })) as (UserRow & { deletedAt: Date | null }) | null;
      if (!user) throw new NotFoundException(`User ${id} not found`);
      if (user.deletedAt === null) return toUserResponse(user);

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
      return toUserResponse(user);
    });
  }

  /** GET /users/:id/posts: 404 for a missing user rather than an empty page. */
  async findPosts(id: number, query: UserPostsQueryDto): Promise<Page<PostResponseDto>> {
    await this.assertExists(id);
    return this.posts.findAll({ ...query, authorId: id });
  }

  async topAuthors(limit: number): Promise<{ data: TopAuthorDto[] }> {
    const data = await this.sequelize.query<TopAuthorDto>(TOP_AUTHORS_SQL, { bind: [limit], type: QueryTypes.SELECT });
    return { data };
  }

  private async assertExists(id: number): Promise<void> {
    const row = await this.users.findByPk(id, { attributes: ['id'], raw: true });
    if (!row) throw new NotFoundException(`User ${id} not found`);
  }
}
