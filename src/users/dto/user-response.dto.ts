import { ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type { Actor } from '../../common/access/actor';
import { PostResponseDto } from '../../posts/dto/post-response.dto';
import { toUserSummary, UserSummaryDto, type UserRow } from './user-summary.dto';

export type { UserRow } from './user-summary.dto';

@ApiSchema({
  name: 'User',
  description: 'A user. `email` is present only for the user themselves and for admins; `posts` and `postCount` only with include=posts.',
})
export class UserResponseDto extends UserSummaryDto {
  @ApiPropertyOptional({
    type: () => [PostResponseDto],
    description: 'Present with include=posts: the newest of the posts the caller may see, at most postsLimit of them',
  })
  readonly posts?: PostResponseDto[];

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'Present with include=posts: how many posts the caller may see (with the published filter, if any)',
  })
  readonly postCount?: number;
}

/** A user as `viewer` may see it (undefined: anonymous); posts are added by include=posts. */
export function toUserResponse(row: UserRow, viewer: Actor | undefined): UserResponseDto {
  return toUserSummary(row, viewer);
}
