/**
 * Query parameters of the user read endpoints. Classes, so that the global
 * ValidationPipe rejects unknown parameters.
 */
import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateBy } from 'class-validator';
import { IsEmailAddress } from '../../common/validation/email';
import { ListQueryDto } from '../../common/pagination/list-query.dto';
import { toBoolean, toInteger } from '../../common/pagination/query-transforms';
import { USER_ROLES, type UserRole } from '../models/user.model';

export const USER_SORT_FIELDS = ['id', 'name', 'email', 'createdAt', 'updatedAt'] as const;
export type UserSortField = (typeof USER_SORT_FIELDS)[number];

const RequiresIncludePosts = ValidateBy({
  name: 'requiresIncludePosts',
  validator: {
    validate: (_value, args) => (args?.object as { include?: string }).include === 'posts',
    defaultMessage: () => 'published filters the included posts, so it requires include=posts',
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
  @RequiresIncludePosts
  readonly published?: boolean;
}

export class ListUsersQueryDto extends IntersectionType(ListQueryDto(USER_SORT_FIELDS), UserIncludeQueryDto) {
  @ApiPropertyOptional({ enum: USER_ROLES })
  @IsOptional()
  @IsIn(USER_ROLES)
  readonly role?: UserRole;

  @ApiPropertyOptional({ format: 'email', maxLength: 255, description: 'Exact match, case-insensitive' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MaxLength(255)
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
