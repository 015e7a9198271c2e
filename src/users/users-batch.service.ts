/**
 * Multi-row writes: a user created with its posts, and users upserted in bulk. Each runs in the request's
 * transaction (TransactionInterceptor), so a failure anywhere leaves nothing behind; nothing here opens or
 * passes a transaction itself.
 */
import { BadRequestException, Injectable } from '@nestjs/common';
import type { Actor } from '../common/access/actor';
import { enforce } from '../common/access/access';
import { PostsService } from '../posts/posts.service';
import type { BulkUpsertUsersDto, BulkUpsertUsersResponseDto } from './dto/bulk-upsert-users.dto';
import type { CreateUserWithPostsDto, UserWithPostsResponseDto } from './dto/create-user-with-posts.dto';
import { toUserResponse } from './dto/user-response.dto';
import { normaliseEmail, type UserCreationAttributes } from './models/user.model';
import { PasswordHasher } from './password-hasher';
import { UsersPolicy } from './users.policy';
import { UsersRepository } from './users.repository';

@Injectable()
export class UsersBatchService {
  constructor(
    private readonly users: UsersRepository,
    private readonly posts: PostsService,
    private readonly passwords: PasswordHasher,
  ) {}

  /** Two INSERTs whatever the number of posts. A taken email fails on the unique index: 409 from the filter. */
  async createWithPosts(actor: Actor | undefined, dto: CreateUserWithPostsDto): Promise<UserWithPostsResponseDto> {
    enforce(UsersPolicy.manage(actor), { action: 'create users', resource: 'User' });
    const passwordHash = dto.password === undefined ? null : await this.passwords.hash(dto.password);
    const user = await this.users.create({ ...userValues(dto), passwordHash });
    const posts = await this.posts.createManyForAuthor(user.id, dto.posts);
    return { ...toUserResponse(user, actor), posts };
  }

  /** One INSERT … ON CONFLICT for the whole batch (see UsersRepository.upsertByEmail); the response in request order. */
  async upsertMany(actor: Actor | undefined, dto: BulkUpsertUsersDto): Promise<BulkUpsertUsersResponseDto> {
    enforce(UsersPolicy.manage(actor), { action: 'write users in bulk', resource: 'User' });
    const rows = dto.users.map((user) => userValues({ ...user, email: normaliseEmail(user.email) }));
    assertDistinctEmails(rows);
    const byEmail = await this.users.upsertByEmail(rows);
    return { data: rows.map((row) => toUserResponse(byEmail.get(row.email)!, actor)) };
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
