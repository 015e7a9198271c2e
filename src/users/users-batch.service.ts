/**
 * Multi-row writes: a user created with its posts, and users upserted in bulk. Each runs in the request's
 * transaction (TransactionInterceptor), so a failure anywhere leaves nothing behind; nothing here opens or
 * passes a transaction itself.
 */
import { BadRequestException, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import type { Actor } from '../common/access/actor';
import { enforce } from '../common/access/access';
import { badBulkRows } from '../common/database/bulk-errors';
import { PostsService } from '../posts/posts.service';
import type { BulkUpsertUsersDto, BulkUpsertUsersResponseDto } from './dto/bulk-upsert-users.dto';
import type { CreateUserWithPostsDto, UserWithPostsResponseDto } from './dto/create-user-with-posts.dto';
import { toUserResponse } from './dto/user-response.dto';
import { normaliseEmail, User, USER_PUBLIC_ATTRIBUTES, type UserCreationAttributes } from './models/user.model';
import { PasswordHasher } from './password-hasher';
import { UsersPolicy } from './users.policy';

@Injectable()
export class UsersBatchService {
  constructor(
    @InjectModel(User) private readonly users: typeof User,
    private readonly posts: PostsService,
    private readonly passwords: PasswordHasher,
  ) {}

  /** Two INSERTs whatever the number of posts. A taken email fails on the unique index: 409 from the filter. */
  async createWithPosts(actor: Actor | undefined, dto: CreateUserWithPostsDto): Promise<UserWithPostsResponseDto> {
    enforce(UsersPolicy.manage(actor), { action: 'create users', resource: 'User' });
    const passwordHash = dto.password === undefined ? null : await this.passwords.hash(dto.password);
    const user = await this.users.create({ ...userValues(dto), passwordHash });
    const posts = await this.posts.createManyForAuthor(user.id, dto.posts);
    return { ...toUserResponse(user.get(), actor), posts };
  }

  /**
   * One INSERT … ON CONFLICT for the whole batch. The unique index on email is partial (live users only), so the
   * ON CONFLICT clause repeats its predicate (`conflictWhere`), or PostgreSQL would find no index to infer.
   * Rows are inserted in email order so that concurrent batches lock shared addresses in the same order and
   * cannot deadlock each other; the response follows the request's order.
   */
  async upsertMany(actor: Actor | undefined, dto: BulkUpsertUsersDto): Promise<BulkUpsertUsersResponseDto> {
    enforce(UsersPolicy.manage(actor), { action: 'write users in bulk', resource: 'User' });
    const rows = dto.users.map((user) => userValues({ ...user, email: normaliseEmail(user.email) }));
    assertDistinctEmails(rows);
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
    const byEmail = new Map(saved.map((user) => [user.email, user]));
    return { data: rows.map((row) => toUserResponse(byEmail.get(row.email)!.get(), actor)) };
  }
}

function userValues(dto: { name: string; email: string; role?: UserCreationAttributes['role'] }): UserCreationAttributes {
  return { name: dto.name, email: dto.email, ...(dto.role !== undefined && { role: dto.role }) };
}

function assertDistinctEmails(rows: ReadonlyArray<{ email: string }>): void {
  const firstIndex = new Map<string, number>();
  const messages: string[] = [];
  rows.forEach((row, index) => {
    const first = firstIndex.get(row.email);
    if (first === undefined) firstIndex.set(row.email, index);
    else messages.push(`users.${index}.email duplicates users.${first}.email`);
  });
  if (messages.length > 0) throw new BadRequestException(messages);
}
