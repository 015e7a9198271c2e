/**
 * Query parameters of the user read endpoints. Classes, so that the global
 * ValidationPipe rejects unknown parameters.
 */
import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min, ValidateBy } from 'class-validator';
import { EMAIL_MAX_LENGTH, IsEmailAddress } from '../../common/validation/email';
import { ListQueryDto } from '../../common/pagination/list-query.dto';
import { toBoolean, toInteger } from '../../common/pagination/query-transforms';
import { USER_ROLES, type UserRole } from '../models/user.model';

export const USER_SORT_FIELDS = ['id', 'name', 'email', 'createdAt', 'updatedAt'] as const;
export type UserSortField = (typeof USER_SORT_FIELDS)[number];

export const DEFAULT_POSTS_LIMIT = 10;
export const MAX_POSTS_LIMIT = 50;
/** The most posts one page of users embeds (limit × postsLimit): bounds the response, see the README. */
export const MAX_EMBEDDED_POSTS = 200;

/** `postsLimit` when the query leaves it out: 10, or fewer on a page so long that 10 each would exceed the budget. */
export function defaultPostsLimit(limit: number): number {
  return Math.min(DEFAULT_POSTS_LIMIT, Math.floor(MAX_EMBEDDED_POSTS / limit));
}

function RequiresIncludePosts(what: string): PropertyDecorator {
  return ValidateBy({
    name: 'requiresIncludePosts',
    validator: {
      validate: (_value, args) => (args?.object as { include?: string }).include === 'posts',
      defaultMessage: () => `${what}, so it requires include=posts`,
    },
  });
}

// On a list (the only query with a `limit`): the page's posts within the budget. Declared here rather than on the
// list's own `postsLimit`: class-validator drops a parent's rules for a property the subclass re-declares.
const WithinEmbeddedPostsBudget = ValidateBy({
  name: 'withinEmbeddedPostsBudget',
  validator: {
    validate: (value, args) => {
      const limit = (args?.object as { limit?: unknown }).limit;
      return typeof value !== 'number' || typeof limit !== 'number' || value * limit <= MAX_EMBEDDED_POSTS;
    },
    defaultMessage: () => `limit × postsLimit must not exceed ${MAX_EMBEDDED_POSTS} (the posts one page may embed)`,
  },
});

export class UserIncludeQueryDto {
  @ApiPropertyOptional({ enum: ['posts'], description: "Embed each user's live posts" })
  @IsOptional()
  @IsIn(['posts'])
  readonly include?: 'posts';

  @ApiPropertyOptional({
    type: 'boolean',
    description: 'With include=posts: embed only the posts with this published flag (users are listed either way)',
  })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  @RequiresIncludePosts('published filters the included posts')
  readonly published?: boolean;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_POSTS_LIMIT,
    description:
      `With include=posts: embed at most this many posts per user, newest first (\`postCount\` says how many there are). ` +
      `Default ${DEFAULT_POSTS_LIMIT}; in a list, limit × postsLimit may not exceed ${MAX_EMBEDDED_POSTS}, and the default ` +
      `shrinks to stay within it (${DEFAULT_POSTS_LIMIT} up to limit=${MAX_EMBEDDED_POSTS / DEFAULT_POSTS_LIMIT}).`,
  })
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(MAX_POSTS_LIMIT)
  @RequiresIncludePosts('postsLimit bounds the included posts')
  @WithinEmbeddedPostsBudget
  readonly postsLimit?: number;
}

export class ListUsersQueryDto extends IntersectionType(ListQueryDto(USER_SORT_FIELDS), UserIncludeQueryDto) {
  @ApiPropertyOptional({ enum: USER_ROLES })
  @IsOptional()
  @IsIn(USER_ROLES)
  readonly role?: UserRole;

  @ApiPropertyOptional({ format: 'email', maxLength: EMAIL_MAX_LENGTH, description: 'Exact match on the normalised address (admins only)' })
  @IsOptional()
  @IsEmailAddress()
  readonly email?: string;
}

export const DEFAULT_TOP_AUTHORS = 10;

export class TopAuthorsQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: DEFAULT_TOP_AUTHORS })
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(100)
  readonly limit: number = DEFAULT_TOP_AUTHORS;
}
