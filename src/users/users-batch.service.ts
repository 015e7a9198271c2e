/**
 * Multi-row writes: a user created with its posts, and users upserted in bulk. Each runs in the request's
 * transaction (TransactionInterceptor), so a failure anywhere leaves nothing behind; nothing here opens or
 * passes a transaction itself.
 */
import { BadRequestException, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import { AggregateError, BulkRecordError, ValidationError } from 'sequelize';
import { toPostResponse } from '../posts/dto/post-response.dto';
import { Post, POST_PUBLIC_ATTRIBUTES } from '../posts/models/post.model';
import type { BulkUpsertUsersDto, BulkUpsertUsersResponseDto } from './dto/bulk-upsert-users.dto';
import type { CreateUserWithPostsDto, UserWithPostsResponseDto } from './dto/create-user-with-posts.dto';
import { toUserResponse } from './dto/user-response.dto';
import { normaliseEmail, User, USER_PUBLIC_ATTRIBUTES, type UserCreationAttributes } from './models/user.model';

@Injectable()
export class UsersBatchService {
  constructor(@InjectModel(User) private readonly users: typeof User) {}

  /** Two INSERTs whatever the number of posts. A taken email fails on the unique index: 409 from the filter. */
  async createWithPosts(dto: CreateUserWithPostsDto): Promise<UserWithPostsResponseDto> {
    const user = await this.users.create(userValues(dto));
    const rows = dto.posts.map((post) => ({
      title: post.title,
      body: post.body,
      published: post.published ?? false,
      authorId: user.id,
    }));
    const posts =
      rows.length === 0
        ? []
        : await Post.bulkCreate(rows, { validate: true, returning: [...POST_PUBLIC_ATTRIBUTES] }).catch((error: unknown) => {
            throw badBulkRows(error, 'posts', (record) => rows.findIndex((row) => row.title === record.title && row.body === record.body));
          });
    return { ...toUserResponse(user.get()), posts: posts.map((post) => toPostResponse(post.get())) };
  }

  /**
   * One INSERT … ON CONFLICT for the whole batch. The unique index on email is partial (live users only), so the
   * ON CONFLICT clause repeats its predicate (`conflictWhere`), or PostgreSQL would find no index to infer.
   * Rows are inserted in email order so that concurrent batches lock shared addresses in the same order and
   * cannot deadlock each other; the response follows the request's order.
   */
  async upsertMany(dto: BulkUpsertUsersDto): Promise<BulkUpsertUsersResponseDto> {
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
    return { data: rows.map((row) => toUserResponse(byEmail.get(row.email)!.get())) };
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

/**
 * bulkCreate's `validate: true` reports every invalid row in one AggregateError of BulkRecordErrors, which name
 * the instance but not its position: `indexOf` finds it in the request. Anything else is rethrown untouched.
 * (The DTOs enforce the same rules first, so this is the model's last word, not the usual path.)
 */
function badBulkRows(error: unknown, field: string, indexOf: (record: Record<string, unknown>) => number): unknown {
  if (!(error instanceof AggregateError)) return error;
  const messages = error.errors.flatMap((item) => {
    if (!(item instanceof BulkRecordError)) return [String(item.message)];
    const index = indexOf((item.record as unknown as { get(): Record<string, unknown> }).get());
    const details = item.errors instanceof ValidationError ? item.errors.errors.map((detail) => detail.message) : [item.message];
    return details.map((message) => `${field}.${index}: ${message}`);
  });
  return new BadRequestException(messages);
}
