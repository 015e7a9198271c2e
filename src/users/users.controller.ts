import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { type Page } from '../common/pagination/page.dto';
import { IdParam } from '../common/validation/id-param.decorator';
import { TransactionalRoutes } from '../common/interceptors/transactional-routes.decorator';
import { UserPostsQueryDto } from '../posts/dto/post-query.dto';
import { PostPageDto } from '../posts/dto/post-page.dto';
import type { PostResponseDto } from '../posts/dto/post-response.dto';
import { CreateUserDto } from './dto/create-user.dto';
import { TopAuthorsResponseDto } from './dto/top-author.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { UserPageDto } from './dto/user-page.dto';
import { ListUsersQueryDto, TopAuthorsQueryDto, UserIncludeQueryDto } from './dto/user-query.dto';
import { UserResponseDto } from './dto/user-response.dto';
import { UsersService } from './users.service';

@TransactionalRoutes()
@ApiTags('users')
@Controller({ path: 'users', version: '1' })
export class UsersController {
  constructor(private readonly usersService: UsersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a user', operationId: 'createUser' })
  @ApiCreatedResponse({ type: UserResponseDto, description: 'The created user' })
  @ApiBadRequestResponse({ description: 'Invalid body' })
  @ApiConflictResponse({ description: 'Email already used by a live user (case-insensitively)' })
  create(@Body() dto: CreateUserDto): Promise<UserResponseDto> {
    return this.usersService.create(dto);
  }

  @Get()
  @ApiOperation({ summary: 'List users', operationId: 'listUsers' })
  @ApiOkResponse({ type: UserPageDto, description: 'A page of live users, each with its posts when include=posts' })
  @ApiBadRequestResponse({ description: 'Unknown or invalid query parameter' })
  findAll(@Query() query: ListUsersQueryDto): Promise<Page<UserResponseDto>> {
    return this.usersService.findAll(query);
  }

  // Declared before `:id` routes for readers; the router prefers static segments anyway.
  @Get('stats/top-authors')
  @ApiOperation({ summary: 'Users with the most live posts', operationId: 'getTopAuthors' })
  @ApiOkResponse({ type: TopAuthorsResponseDto, description: 'Live users by live post count (most first), then by id' })
  @ApiBadRequestResponse({ description: 'Invalid limit' })
  topAuthors(@Query() query: TopAuthorsQueryDto): Promise<TopAuthorsResponseDto> {
    return this.usersService.topAuthors(query.limit);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a user', operationId: 'getUser' })
  @ApiOkResponse({ type: UserResponseDto, description: 'The user, with its posts when include=posts' })
  @ApiBadRequestResponse({ description: 'Invalid id or query parameter' })
  @ApiNotFoundResponse({ description: 'No live user with this id' })
  findOne(@IdParam() id: number, @Query() query: UserIncludeQueryDto): Promise<UserResponseDto> {
    return this.usersService.findOne(id, query);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Update a user', operationId: 'updateUser' })
  @ApiOkResponse({ type: UserResponseDto, description: 'The updated user' })
  @ApiBadRequestResponse({ description: 'Invalid id or body' })
  @ApiNotFoundResponse({ description: 'No live user with this id' })
  @ApiConflictResponse({ description: 'Email already used by another live user' })
  update(@IdParam() id: number, @Body() dto: UpdateUserDto): Promise<UserResponseDto> {
    return this.usersService.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Soft-delete a user and its posts', operationId: 'deleteUser' })
  @ApiNoContentResponse({ description: 'Deleted, together with its live posts' })
  @ApiBadRequestResponse({ description: 'Invalid id' })
  @ApiNotFoundResponse({ description: 'No live user with this id' })
  remove(@IdParam() id: number): Promise<void> {
    return this.usersService.remove(id);
  }

  @Post(':id/restore')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Restore a deleted user and the posts deleted with it', operationId: 'restoreUser' })
  @ApiOkResponse({ type: UserResponseDto, description: 'The restored user (already live: returned as it is)' })
  @ApiBadRequestResponse({ description: 'Invalid id' })
  @ApiNotFoundResponse({ description: 'No user ever had this id' })
  @ApiConflictResponse({ description: "The user's email has been taken by another user since" })
  restore(@IdParam() id: number): Promise<UserResponseDto> {
    return this.usersService.restore(id);
  }

  @Get(':id/posts')
  @ApiOperation({ summary: "List a user's posts", operationId: 'listUserPosts' })
  @ApiOkResponse({ type: PostPageDto, description: "A page of the user's live posts" })
  @ApiBadRequestResponse({ description: 'Invalid id or query parameter' })
  @ApiNotFoundResponse({ description: 'No live user with this id' })
  findPosts(@IdParam() id: number, @Query() query: UserPostsQueryDto): Promise<Page<PostResponseDto>> {
    return this.usersService.findPosts(id, query);
  }
}
