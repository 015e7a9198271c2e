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
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { type Page } from '../common/pagination/page.dto';
import { IdParam } from '../common/validation/id-param.decorator';
import { TransactionalRoutes } from '../common/interceptors/transactional-routes.decorator';
import { CreatePostDto } from './dto/create-post.dto';
import { PostPageDto } from './dto/post-page.dto';
import { ListPostsQueryDto, PostIncludeQueryDto } from './dto/post-query.dto';
import { PostResponseDto } from './dto/post-response.dto';
import { UpdatePostDto } from './dto/update-post.dto';
import { PostsService } from './posts.service';

@TransactionalRoutes()
@ApiTags('posts')
@Controller({ path: 'posts', version: '1' })
export class PostsController {
  constructor(private readonly postsService: PostsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a post', operationId: 'createPost' })
  @ApiCreatedResponse({ type: PostResponseDto, description: 'The created post' })
  @ApiBadRequestResponse({ description: 'Invalid body' })
  @ApiUnprocessableEntityResponse({ description: 'authorId names no live user' })
  create(@Body() dto: CreatePostDto): Promise<PostResponseDto> {
    return this.postsService.create(dto);
  }

  @Get()
  @ApiOperation({ summary: 'List posts', operationId: 'listPosts' })
  @ApiOkResponse({ type: PostPageDto, description: 'A page of live posts, each with its author when include=author' })
  @ApiBadRequestResponse({ description: 'Unknown or invalid query parameter' })
  findAll(@Query() query: ListPostsQueryDto): Promise<Page<PostResponseDto>> {
    return this.postsService.findAll(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a post', operationId: 'getPost' })
  @ApiOkResponse({ type: PostResponseDto, description: 'The post, with its author when include=author' })
  @ApiBadRequestResponse({ description: 'Invalid id or query parameter' })
  @ApiNotFoundResponse({ description: 'No live post with this id' })
  findOne(@IdParam() id: number, @Query() query: PostIncludeQueryDto): Promise<PostResponseDto> {
    return this.postsService.findOne(id, query.include);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Update a post', operationId: 'updatePost' })
  @ApiOkResponse({ type: PostResponseDto, description: 'The updated post' })
  @ApiBadRequestResponse({ description: 'Invalid id or body' })
  @ApiNotFoundResponse({ description: 'No live post with this id' })
  @ApiUnprocessableEntityResponse({ description: 'authorId names no live user' })
  update(@IdParam() id: number, @Body() dto: UpdatePostDto): Promise<PostResponseDto> {
    return this.postsService.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Soft-delete a post', operationId: 'deletePost' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiBadRequestResponse({ description: 'Invalid id' })
  @ApiNotFoundResponse({ description: 'No live post with this id' })
  remove(@IdParam() id: number): Promise<void> {
    return this.postsService.remove(id);
  }

  @Post(':id/restore')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Restore a deleted post', operationId: 'restorePost' })
  @ApiOkResponse({ type: PostResponseDto, description: 'The restored post (already live: returned as it is)' })
  @ApiBadRequestResponse({ description: 'Invalid id' })
  @ApiNotFoundResponse({ description: 'No post ever had this id' })
  @ApiConflictResponse({ description: "The post's author is deleted: restore the author first" })
  restore(@IdParam() id: number): Promise<PostResponseDto> {
    return this.postsService.restore(id);
  }
}
