import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { PageDto } from '../../common/pagination/page.dto';
import type { CommentAttributes } from '../models/comment.model';

@ApiSchema({ name: 'Comment', description: 'A comment' })
export class CommentResponseDto {
  @ApiProperty({ type: 'integer', minimum: 1 })
  readonly id!: number;

  @ApiProperty({ minLength: 1, maxLength: 5000 })
  readonly body!: string;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'The post it belongs to' })
  readonly postId!: number;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'The user who wrote it' })
  readonly authorId!: number;

  @ApiProperty({ type: 'string', format: 'date-time' })
  readonly createdAt!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  readonly updatedAt!: string;
}

@ApiSchema({ name: 'CommentPage', description: 'A page of comments' })
export class CommentPageDto extends PageDto(CommentResponseDto) {}

export type CommentRow = Pick<CommentAttributes, 'id' | 'body' | 'postId' | 'authorId' | 'createdAt' | 'updatedAt' | 'version'>;

export function toCommentResponse(row: CommentRow): CommentResponseDto {
  return {
    id: row.id,
    body: row.body,
    postId: row.postId,
    authorId: row.authorId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
