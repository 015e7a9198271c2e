import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Put, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { type Actor, CurrentActor, Public } from '../common/access/actor';
import { type Page } from '../common/pagination/page.dto';
import { IdParam } from '../common/validation/id-param.decorator';
import { Conditional } from '../common/guards/conditional-request.guard';
import { TransactionalRoutes } from '../common/interceptors/transactional-routes.decorator';
import { CreatePostDto } from './dto/create-post.dto';
import { PostPageDto } from './dto/post-page.dto';
import { ListPostsQueryDto, PostIncludeQueryDto } from './dto/post-query.dto';
import { PostResponseDto } from './dto/post-response.dto';
import { ReplacePostTagsDto } from './dto/replace-post-tags.dto';
import { UpdatePostDto } from './dto/update-post.dto';
import { PostTagsResponseDto } from '../tags/dto/tag-response.dto';
import { PostsService } from './posts.service';
import { Idempotent } from '../idempotency/idempotency.interceptor';

@TransactionalRoutes()
@ApiTags('posts')
@Controller({ path: 'posts', version: '1' })
export class PostsController {
  constructor(private readonly postsService: PostsService) {}

  @Post()
  @Idempotent()
  @ApiOperation({ summary: 'Create a post', operationId: 'createPost' })
  @ApiCreatedResponse({ type: PostResponseDto, description: 'The created post' })
  @ApiBadRequestResponse({ description: 'Invalid body' })
  @ApiForbiddenResponse({ description: 'authorId names another user (admins only)' })
  @ApiUnprocessableEntityResponse({ description: 'authorId names no live user' })
  create(@CurrentActor() actor: Actor, @Body() dto: CreatePostDto): Promise<PostResponseDto> {
    return this.postsService.create(actor, dto);
  }

  @Get()
  @Public()
  @ApiOperation({
    summary: 'List posts',
    description: 'Published posts for anonymous callers; a user also sees their own drafts; an admin sees all.',
    operationId: 'listPosts',
  })
  @ApiOkResponse({ type: PostPageDto, description: 'A page of the live posts the caller may see, each with its author when include=author' })
  @ApiBadRequestResponse({ description: 'Unknown or invalid query parameter' })
  findAll(@CurrentActor() actor: Actor | undefined, @Query() query: ListPostsQueryDto): Promise<Page<PostResponseDto>> {
    return this.postsService.findAll(actor, query);
  }

  @Get(':id')
  @Conditional('read')
  @Public()
  @ApiOperation({ summary: 'Get a post', operationId: 'getPost' })
  @ApiOkResponse({ type: PostResponseDto, description: 'The post, with its author when include=author' })
  @ApiBadRequestResponse({ description: 'Invalid id or query parameter' })
  @ApiNotFoundResponse({ description: 'No live post with this id that the caller may see (drafts: their author and admins only)' })
  findOne(@CurrentActor() actor: Actor | undefined, @IdParam() id: number, @Query() query: PostIncludeQueryDto): Promise<PostResponseDto> {
    return this.postsService.findOne(actor, id, query.include);
  }

  @Patch(':id')
  @Conditional('write')
  @ApiOperation({ summary: 'Update a post', operationId: 'updatePost' })
  @ApiOkResponse({ type: PostResponseDto, description: 'The updated post' })
  @ApiBadRequestResponse({ description: 'Invalid id or body' })
  @ApiForbiddenResponse({ description: "Not the post's author, or moving it to another author (admins only)" })
  @ApiNotFoundResponse({ description: 'No live post with this id that the caller may see' })
  @ApiUnprocessableEntityResponse({ description: 'authorId names no live user' })
  update(@CurrentActor() actor: Actor, @IdParam() id: number, @Body() dto: UpdatePostDto): Promise<PostResponseDto> {
    return this.postsService.update(actor, id, dto);
  }

  @Put(':id/tags')
  @Conditional('write', { untagged: true })
  @ApiOperation({
    summary: "Replace a post's tags",
    description: 'The whole set, by name, in one transaction; tags that do not exist yet are created. Whoever may change the post.',
    operationId: 'replacePostTags',
  })
  @ApiOkResponse({ type: PostTagsResponseDto, description: "The post's tags now, by name" })
  @ApiBadRequestResponse({ description: 'Invalid id or body (more than 20 tags, a name of more than 50 characters)' })
  @ApiForbiddenResponse({ description: "Not the post's author" })
  @ApiNotFoundResponse({ description: 'No live post with this id that the caller may see' })
  replaceTags(@CurrentActor() actor: Actor, @IdParam() id: number, @Body() dto: ReplacePostTagsDto): Promise<PostTagsResponseDto> {
    return this.postsService.replaceTags(actor, id, dto);
  }

  @Delete(':id')
  @Conditional('write')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Soft-delete a post', operationId: 'deletePost' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiBadRequestResponse({ description: 'Invalid id' })
  @ApiForbiddenResponse({ description: "Not the post's author" })
  @ApiNotFoundResponse({ description: 'No live post with this id that the caller may see' })
  remove(@CurrentActor() actor: Actor, @IdParam() id: number): Promise<void> {
    return this.postsService.remove(actor, id);
  }

  @Post(':id/restore')
  @Idempotent()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Restore a deleted post', operationId: 'restorePost' })
  @ApiOkResponse({ type: PostResponseDto, description: 'The restored post (already live: returned as it is)' })
  @ApiBadRequestResponse({ description: 'Invalid id' })
  @ApiForbiddenResponse({ description: "Not the post's author" })
  @ApiNotFoundResponse({ description: 'No post ever had this id, or one the caller may not see (deleted or a draft, not theirs)' })
  @ApiConflictResponse({ description: "The post's author is deleted: restore the author first" })
  restore(@CurrentActor() actor: Actor, @IdParam() id: number): Promise<PostResponseDto> {
    return this.postsService.restore(actor, id);
  }
}
