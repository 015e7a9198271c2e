import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { type Actor, CurrentActor, Public } from '../common/access/actor';
import { type Page } from '../common/pagination/page.dto';
import { IdParam } from '../common/validation/id-param.decorator';
import { Conditional } from '../common/guards/conditional-request.guard';
import { TransactionalRoutes } from '../common/interceptors/transactional-routes.decorator';
import { UserPostsQueryDto } from '../posts/dto/post-query.dto';
import { PostPageDto } from '../posts/dto/post-page.dto';
import type { PostResponseDto } from '../posts/dto/post-response.dto';
import { CreateAccountDto } from './dto/create-user.dto';
import { TopAuthorsResponseDto } from './dto/top-author.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { UserPageDto } from './dto/user-page.dto';
import { ListUsersQueryDto, TopAuthorsQueryDto, UserIncludeQueryDto } from './dto/user-query.dto';
import { UserResponseDto } from './dto/user-response.dto';
import { UsersService } from './users.service';
import { Idempotent } from '../idempotency/idempotency.interceptor';

@TransactionalRoutes()
@ApiTags('users')
@Controller({ path: 'users', version: '1' })
export class UsersController {
  constructor(private readonly usersService: UsersService) {}

  @Post()
  @Idempotent()
  @ApiOperation({ summary: 'Create a user (admins)', description: 'Any role; without a password the account cannot log in.', operationId: 'createUser' })
  @ApiCreatedResponse({ type: UserResponseDto, description: 'The created user' })
  @ApiBadRequestResponse({ description: 'Invalid body' })
  @ApiForbiddenResponse({ description: 'Not an admin' })
  @ApiConflictResponse({ description: 'Email already used by a live user (case-insensitively)' })
  create(@CurrentActor() actor: Actor, @Body() dto: CreateAccountDto): Promise<UserResponseDto> {
    return this.usersService.create(actor, dto);
  }

  @Get()
  @Public()
  @ApiOperation({
    summary: 'List users',
    description: 'Emails are shown to admins, and to each user on their own entry. Embedded posts follow the posts rules.',
    operationId: 'listUsers',
  })
  @ApiOkResponse({ type: UserPageDto, description: 'A page of live users, each with its posts when include=posts' })
  @ApiBadRequestResponse({ description: 'Unknown or invalid query parameter' })
  @ApiForbiddenResponse({ description: 'Filtering or sorting by email is for admins only' })
  findAll(@CurrentActor() actor: Actor | undefined, @Query() query: ListUsersQueryDto): Promise<Page<UserResponseDto>> {
    return this.usersService.findAll(actor, query);
  }

  // Declared before `:id` routes for readers; the router prefers static segments anyway.
  @Get('stats/top-authors')
  @Public()
  @ApiOperation({ summary: 'Users with the most published posts', operationId: 'getTopAuthors' })
  @ApiOkResponse({ type: TopAuthorsResponseDto, description: 'Live users by live published post count (most first), then by id' })
  @ApiBadRequestResponse({ description: 'Invalid limit' })
  topAuthors(@Query() query: TopAuthorsQueryDto): Promise<TopAuthorsResponseDto> {
    return this.usersService.topAuthors(query.limit);
  }

  @Get(':id')
  @Conditional('read')
  @Public()
  @ApiOperation({ summary: 'Get a user', operationId: 'getUser' })
  @ApiOkResponse({ type: UserResponseDto, description: 'The user (email for themselves and admins), with its posts when include=posts' })
  @ApiBadRequestResponse({ description: 'Invalid id or query parameter' })
  @ApiNotFoundResponse({ description: 'No live user with this id' })
  findOne(@CurrentActor() actor: Actor | undefined, @IdParam() id: number, @Query() query: UserIncludeQueryDto): Promise<UserResponseDto> {
    return this.usersService.findOne(actor, id, query);
  }

  @Patch(':id')
  @Conditional('write')
  @ApiOperation({
    summary: 'Update a user',
    description:
      'Users change their own name, email and password (with currentPassword); admins change anyone, role included. ' +
      "A new password or role ends the user's sessions.",
    operationId: 'updateUser',
  })
  @ApiOkResponse({ type: UserResponseDto, description: 'The updated user' })
  @ApiBadRequestResponse({ description: 'Invalid id or body, or a new password of your own without currentPassword' })
  @ApiForbiddenResponse({ description: 'Another user, a role change (admins only), or a wrong currentPassword' })
  @ApiNotFoundResponse({ description: 'No live user with this id' })
  @ApiConflictResponse({ description: 'Email already used by another live user' })
  update(@CurrentActor() actor: Actor, @IdParam() id: number, @Body() dto: UpdateUserDto): Promise<UserResponseDto> {
    return this.usersService.update(actor, id, dto);
  }

  @Delete(':id')
  @Conditional('write')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Soft-delete a user and its posts', operationId: 'deleteUser' })
  @ApiNoContentResponse({ description: "Deleted, together with its live posts; the user's sessions end" })
  @ApiBadRequestResponse({ description: 'Invalid id' })
  @ApiForbiddenResponse({ description: 'Another user (admins only)' })
  @ApiNotFoundResponse({ description: 'No live user with this id' })
  remove(@CurrentActor() actor: Actor, @IdParam() id: number): Promise<void> {
    return this.usersService.remove(actor, id);
  }

  @Post(':id/restore')
  @Idempotent()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Restore a deleted user and the posts deleted with it (admins)', operationId: 'restoreUser' })
  @ApiOkResponse({ type: UserResponseDto, description: 'The restored user (already live: returned as it is)' })
  @ApiBadRequestResponse({ description: 'Invalid id' })
  @ApiForbiddenResponse({ description: 'Not an admin' })
  @ApiNotFoundResponse({ description: 'No user ever had this id' })
  @ApiConflictResponse({ description: "The user's email has been taken by another user since" })
  restore(@CurrentActor() actor: Actor, @IdParam() id: number): Promise<UserResponseDto> {
    return this.usersService.restore(actor, id);
  }

  @Get(':id/posts')
  @Public()
  @ApiOperation({ summary: "List a user's posts", operationId: 'listUserPosts' })
  @ApiOkResponse({ type: PostPageDto, description: "A page of the user's live posts that the caller may see" })
  @ApiBadRequestResponse({ description: 'Invalid id or query parameter' })
  @ApiNotFoundResponse({ description: 'No live user with this id' })
  findPosts(@CurrentActor() actor: Actor | undefined, @IdParam() id: number, @Query() query: UserPostsQueryDto): Promise<Page<PostResponseDto>> {
    return this.usersService.findPosts(actor, id, query);
  }
}
