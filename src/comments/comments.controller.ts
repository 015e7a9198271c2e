import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { type Actor, CurrentActor, Public } from '../common/access/actor';
import { Conditional } from '../common/guards/conditional-request.guard';
import { TransactionalRoutes } from '../common/interceptors/transactional-routes.decorator';
import type { Page } from '../common/pagination/page.dto';
import { IdParam } from '../common/validation/id-param.decorator';
import { CreateCommentDto } from './dto/create-comment.dto';
import { ListCommentsQueryDto } from './dto/comment-query.dto';
import { CommentPageDto, CommentResponseDto } from './dto/comment-response.dto';
import { UpdateCommentDto } from './dto/update-comment.dto';
import { CommentsService } from './comments.service';
import { Idempotent } from '../idempotency/idempotency.interceptor';

@TransactionalRoutes()
@ApiTags('comments')
@Controller({ version: '1' })
export class CommentsController {
  constructor(private readonly comments: CommentsService) {}

  @Post('posts/:id/comments')
  @Idempotent()
  @ApiOperation({ summary: 'Comment on a post', description: 'Any user, on a post they can see.', operationId: 'createComment' })
  @ApiCreatedResponse({ type: CommentResponseDto, description: 'The created comment' })
  @ApiBadRequestResponse({ description: 'Invalid id or body' })
  @ApiNotFoundResponse({ description: 'No live post with this id that the caller may see' })
  create(@CurrentActor() actor: Actor, @IdParam() postId: number, @Body() dto: CreateCommentDto): Promise<CommentResponseDto> {
    return this.comments.create(actor, postId, dto);
  }

  @Get('posts/:id/comments')
  @Public()
  @ApiOperation({ summary: 'List the comments of a post', description: 'Newest first by default; for whoever may see the post.', operationId: 'listComments' })
  @ApiOkResponse({ type: CommentPageDto, description: 'A page of live comments' })
  @ApiBadRequestResponse({ description: 'Unknown or invalid query parameter, or invalid id' })
  @ApiNotFoundResponse({ description: 'No live post with this id that the caller may see' })
  findAll(@CurrentActor() actor: Actor | undefined, @IdParam() postId: number, @Query() query: ListCommentsQueryDto): Promise<Page<CommentResponseDto>> {
    return this.comments.findAll(actor, postId, query);
  }

  @Get('comments/:id')
  @Conditional('read')
  @Public()
  @ApiOperation({ summary: 'Get a comment', operationId: 'getComment' })
  @ApiOkResponse({ type: CommentResponseDto, description: 'The comment' })
  @ApiBadRequestResponse({ description: 'Invalid id' })
  @ApiNotFoundResponse({ description: 'No live comment with this id on a post the caller may see' })
  findOne(@CurrentActor() actor: Actor | undefined, @IdParam() id: number): Promise<CommentResponseDto> {
    return this.comments.findOne(actor, id);
  }

  @Patch('comments/:id')
  @Conditional('write')
  @ApiOperation({ summary: 'Update a comment (its author or an admin)', operationId: 'updateComment' })
  @ApiOkResponse({ type: CommentResponseDto, description: 'The updated comment' })
  @ApiBadRequestResponse({ description: 'Invalid id or body' })
  @ApiForbiddenResponse({ description: 'Not its author' })
  @ApiNotFoundResponse({ description: 'No live comment with this id on a post the caller may see' })
  update(@CurrentActor() actor: Actor, @IdParam() id: number, @Body() dto: UpdateCommentDto): Promise<CommentResponseDto> {
    return this.comments.update(actor, id, dto);
  }

  @Delete('comments/:id')
  @Conditional('write')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Soft-delete a comment (its author or an admin)', operationId: 'deleteComment' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiBadRequestResponse({ description: 'Invalid id' })
  @ApiForbiddenResponse({ description: 'Not its author' })
  @ApiNotFoundResponse({ description: 'No live comment with this id on a post the caller may see' })
  remove(@CurrentActor() actor: Actor, @IdParam() id: number): Promise<void> {
    return this.comments.remove(actor, id);
  }
}
