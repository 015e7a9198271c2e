import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type { Actor } from '../../common/access/actor';
import { toUserSummary, UserSummaryDto, type UserRow } from '../../users/dto/user-summary.dto';
import type { PostAttributes } from '../models/post.model';

@ApiSchema({ name: 'Post', description: 'A post. `author` is present only when asked for with include=author.' })
export class PostResponseDto {
  @ApiProperty({ type: 'integer', minimum: 1 })
  readonly id!: number;

  @ApiProperty({ minLength: 1, maxLength: 255 })
  readonly title!: string;

  @ApiProperty({ minLength: 1 })
  readonly body!: string;

  @ApiProperty()
  readonly published!: boolean;

  @ApiProperty({ type: 'integer', minimum: 1 })
  readonly authorId!: number;

  @ApiProperty({ type: 'string', format: 'date-time' })
  readonly createdAt!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  readonly updatedAt!: string;

  @ApiPropertyOptional({ type: () => UserSummaryDto, description: 'Present with include=author' })
  readonly author?: UserSummaryDto;
}

export type PostRow = Pick<PostAttributes, 'id' | 'title' | 'body' | 'published' | 'authorId' | 'createdAt' | 'updatedAt' | 'version'>;

export function toPostResponse(row: PostRow): PostResponseDto {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    published: row.published,
    authorId: row.authorId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The author as `viewer` may see it (no email unless it is the viewer or the viewer is an admin). */
export function toPostWithAuthorResponse(row: PostRow & { author: UserRow }, viewer: Actor | undefined): PostResponseDto {
  return { ...toPostResponse(row), author: toUserSummary(row.author, viewer) };
}
