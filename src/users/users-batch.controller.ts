import { Body, Controller, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import { type Actor, CurrentActor } from '../common/access/actor';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { BulkUpsertUsersDto, BulkUpsertUsersResponseDto, MAX_BULK_USERS } from './dto/bulk-upsert-users.dto';
import { CreateUserWithPostsDto, MAX_POSTS_PER_NEW_USER, UserWithPostsResponseDto } from './dto/create-user-with-posts.dto';
import { MaxArrayItems } from '../common/guards/max-array-items.guard';
import { TransactionalRoutes } from '../common/interceptors/transactional-routes.decorator';
import { UsersBatchService } from './users-batch.service';
import { Idempotent } from '../idempotency/idempotency.interceptor';

const TRANSIENT = 'Deadlock, serialization failure or database busy: nothing was written; retry after Retry-After seconds';

/** Multi-row writes on users; each request is one transaction (all rows or none). */
@TransactionalRoutes()
@ApiTags('users')
@Controller({ path: 'users', version: '1' })
export class UsersBatchController {
  constructor(private readonly batch: UsersBatchService) {}

  @Post('with-posts')
  @Idempotent()
  @UseGuards(MaxArrayItems('posts', MAX_POSTS_PER_NEW_USER))
  @ApiOperation({
    summary: 'Create a user together with its posts, atomically (admins)',
    description: `0 to ${MAX_POSTS_PER_NEW_USER} posts. If any part is invalid nothing is created.`,
    operationId: 'createUserWithPosts',
  })
  @ApiCreatedResponse({ type: UserWithPostsResponseDto, description: 'The created user with its posts, in the order sent' })
  @ApiBadRequestResponse({ description: 'Invalid user or post (field messages name the post index); nothing created' })
  @ApiForbiddenResponse({ description: 'Not an admin' })
  @ApiConflictResponse({ description: 'Email already used by a live user (case-insensitively); nothing created' })
  @ApiPayloadTooLargeResponse({ description: 'Body over 1 MiB' })
  @ApiServiceUnavailableResponse({ description: TRANSIENT })
  createWithPosts(@CurrentActor() actor: Actor, @Body() dto: CreateUserWithPostsDto): Promise<UserWithPostsResponseDto> {
    return this.batch.createWithPosts(actor, dto);
  }

  @Post('bulk')
  @Idempotent()
  @UseGuards(MaxArrayItems('users', MAX_BULK_USERS))
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Create or update users by email, atomically (admins)',
    description:
      `1 to ${MAX_BULK_USERS} users with distinct emails. A new email creates a user; the email of a live user ` +
      'updates its name and keeps its role. If any row is invalid nothing is written.',
    operationId: 'bulkUpsertUsers',
  })
  @ApiOkResponse({ type: BulkUpsertUsersResponseDto, description: 'One user per row, in the order sent: created or updated' })
  @ApiBadRequestResponse({ description: `Invalid row (messages name its index), repeated email, or not 1–${MAX_BULK_USERS} rows; nothing written` })
  @ApiForbiddenResponse({ description: 'Not an admin' })
  @ApiPayloadTooLargeResponse({ description: 'Body over 1 MiB' })
  @ApiServiceUnavailableResponse({ description: TRANSIENT })
  upsertMany(@CurrentActor() actor: Actor, @Body() dto: BulkUpsertUsersDto): Promise<BulkUpsertUsersResponseDto> {
    return this.batch.upsertMany(actor, dto);
  }
}
