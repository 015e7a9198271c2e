/**
 * Comments: generated (`npm run generate -- module comments --parent posts --owned`), then given a body and the
 * posts' visibility: a comment is seen by whoever may see its post (a draft's comments by its author and admins
 * only; to anyone else they do not exist). Data goes through CommentsRepository; the post through PostsService.
 */
import { Injectable, NotFoundException } from '@nestjs/common';
import type { Actor } from '../common/access/actor';
import { enforce } from '../common/access/access';
import { answerDeadReferences } from '../common/database/dead-reference';
import { withEntityTag } from '../common/http/entity-tag';
import type { Page } from '../common/pagination/page.dto';
import { Paginator } from '../common/pagination/paginator';
import { toOrder } from '../common/pagination/sort';
import { PostsService } from '../posts/posts.service';
import type { CreateCommentDto } from './dto/create-comment.dto';
import { COMMENT_SORT_FIELDS, type ListCommentsQueryDto } from './dto/comment-query.dto';
import { toCommentResponse, type CommentResponseDto } from './dto/comment-response.dto';
import type { UpdateCommentDto } from './dto/update-comment.dto';
import { CommentsPolicy } from './comments.policy';
import { CommentsRepository, type CommentFacts } from './comments.repository';

@Injectable()
export class CommentsService {
  constructor(
    private readonly comments: CommentsRepository,
    private readonly posts: PostsService,
    private readonly pages: Paginator,
  ) {}

  /**
   * On a post the caller can see. The post and the author are share-locked: neither can be deleted before the
   * comment commits (their deletion would not see it to take it along). The post by its visibility check; the author
   * by the database, inside the INSERT: a caller whose account was deleted since their token was issued is a 401.
   */
  async create(actor: Actor | undefined, postId: number, dto: CreateCommentDto): Promise<CommentResponseDto> {
    enforce(CommentsPolicy.create(actor), { action: 'create comments', resource: 'Comment' });
    await this.posts.assertVisible(actor, postId, { lock: true });
    const row = await this.comments
      .create({ body: dto.body, postId, authorId: actor!.id })
      .catch(answerDeadReferences({ authorId: () => enforce('unauthenticated', { action: 'create comments', resource: 'Comment' }) }));
    return toCommentResponse(row);
  }

  /** One statement for the post, then the count and the page: the same three whatever the page size. */
  async findAll(actor: Actor | undefined, postId: number, query: ListCommentsQueryDto): Promise<Page<CommentResponseDto>> {
    await this.posts.assertVisible(actor, postId);
    const window = this.pages.window('comments', query, toOrder(query.sort, COMMENT_SORT_FIELDS), { postId });
    const found = await this.comments.page({ postId }, window);
    return this.pages.page(found.rows.map(toCommentResponse), found, window);
  }

  async findOne(actor: Actor | undefined, id: number): Promise<CommentResponseDto> {
    const row = await this.comments.findLive(id);
    if (!row) throw new NotFoundException(`Comment ${id} not found`);
    await this.assertPostVisible(actor, row.postId, id);
    return withEntityTag(toCommentResponse(row), row);
  }

  async update(actor: Actor | undefined, id: number, dto: UpdateCommentDto): Promise<CommentResponseDto> {
    const action = `change comment ${id}`;
    if (!actor) enforce('unauthenticated', { action, resource: `Comment ${id}` });
    const row = await this.comments.update(id, async (comment) => {
      await this.authorizeWrite(actor, comment, action);
      return dto.body === undefined ? {} : { body: dto.body };
    });
    if (!row) throw new NotFoundException(`Comment ${id} not found`);
    return withEntityTag(toCommentResponse(row), row);
  }

  async remove(actor: Actor | undefined, id: number): Promise<void> {
    const action = `delete comment ${id}`;
    if (!actor) enforce('unauthenticated', { action, resource: `Comment ${id}` });
    if (!(await this.comments.remove(id, (comment) => this.authorizeWrite(actor, comment, action)))) throw new NotFoundException(`Comment ${id} not found`);
  }

  /**
   * The policy decides on the locked row before anything is written (401 came first): 404 for a comment the caller
   * cannot see (on a draft not theirs), then 403 for someone else's.
   */
  private async authorizeWrite(actor: Actor | undefined, row: CommentFacts, action: string): Promise<void> {
    await this.assertPostVisible(actor, row.postId, row.id);
    enforce(CommentsPolicy.write(actor, row), { action, resource: `Comment ${row.id}` });
  }

  /** A comment on a post the caller cannot see does not exist for them: 404 naming the comment, not the post. */
  private async assertPostVisible(actor: Actor | undefined, postId: number, id: number): Promise<void> {
    await this.posts.assertVisible(actor, postId).catch((error: unknown) => {
      throw error instanceof NotFoundException ? new NotFoundException(`Comment ${id} not found`) : error;
    });
  }
}
