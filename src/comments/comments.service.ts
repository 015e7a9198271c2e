/**
 * Comments: the rules of create, list, read, change and delete. Data goes through CommentsRepository; the
 * post a row belongs to through PostsRepository, exported by the posts module.
 */
import { Injectable, NotFoundException } from '@nestjs/common';
import type { Actor } from '../common/access/actor';
import { enforce } from '../common/access/access';
import { toPage, type Page } from '../common/pagination/page.dto';
import { toOrder } from '../common/pagination/sort';
import { PostsRepository } from '../posts/posts.repository';
import type { CreateCommentDto } from './dto/create-comment.dto';
import { COMMENT_SORT_FIELDS, type ListCommentsQueryDto } from './dto/comment-query.dto';
import { toCommentResponse, type CommentResponseDto } from './dto/comment-response.dto';
import type { UpdateCommentDto } from './dto/update-comment.dto';
import { CommentsPolicy } from './comments.policy';
import { CommentsRepository } from './comments.repository';

@Injectable()
export class CommentsService {
  constructor(
    private readonly comments: CommentsRepository,
    private readonly posts: PostsRepository,
  ) {}

  async create(actor: Actor | undefined, postId: number, dto: CreateCommentDto): Promise<CommentResponseDto> {
    enforce(CommentsPolicy.create(actor), { action: 'create comments', resource: 'Comment' });
    if (!(await this.posts.lockLive(postId))) throw new NotFoundException(`Post ${postId} not found`);
    const row = await this.comments.create({ name: dto.name, postId, authorId: actor!.id });
    return toCommentResponse(row);
  }

  async findAll(postId: number, query: ListCommentsQueryDto): Promise<Page<CommentResponseDto>> {
    if (!(await this.posts.exists(postId))) throw new NotFoundException(`Post ${postId} not found`);
    const { rows, total } = await this.comments.page({ postId }, { order: toOrder(query.sort, COMMENT_SORT_FIELDS), limit: query.limit, offset: query.offset });
    return toPage(rows.map(toCommentResponse), total, query);
  }

  async findOne(id: number): Promise<CommentResponseDto> {
    const row = await this.comments.findLive(id);
    if (!row) throw new NotFoundException(`Comment ${id} not found`);
    return toCommentResponse(row);
  }

  async update(actor: Actor | undefined, id: number, dto: UpdateCommentDto): Promise<CommentResponseDto> {
    const row = await this.lockForWrite(actor, id, `change comment ${id}`);
    if (dto.name === undefined) return this.findOne(row.id);
    const updated = await this.comments.update(id, { name: dto.name });
    if (!updated) throw new NotFoundException(`Comment ${id} not found`);
    return toCommentResponse(updated);
  }

  async remove(actor: Actor | undefined, id: number): Promise<void> {
    await this.lockForWrite(actor, id, `delete comment ${id}`);
    if (!(await this.comments.softDeleteLive(id))) throw new NotFoundException(`Comment ${id} not found`);
  }

  /** The policy decides before anything is written; an anonymous caller learns nothing about the row (401 first). */
  private async lockForWrite(actor: Actor | undefined, id: number, action: string) {
    if (!actor) enforce('unauthenticated', { action, resource: `Comment ${id}` });
    const row = await this.comments.lockForWrite(id);
    if (!row) throw new NotFoundException(`Comment ${id} not found`);
    enforce(CommentsPolicy.write(actor, row), { action, resource: `Comment ${id}` });
    return row;
  }
}
