/**
 * Query parameters of the post read endpoints. Classes, so that the global
 * ValidationPipe rejects unknown parameters.
 */
import { ApiPropertyOptional, IntersectionType, OmitType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { HasNoNul, MAX_ID } from '../../common/validation/input-rules';
import { ListQueryDto } from '../../common/pagination/list-query.dto';
import { toBoolean, toInteger } from '../../common/pagination/query-transforms';
import { IsSingleLineText } from '../../common/validation/text';
import { MAX_TAG_LENGTH } from '../../tags/models/tag.model';

export const POST_SORT_FIELDS = ['id', 'title', 'createdAt', 'updatedAt'] as const;
export type PostSortField = (typeof POST_SORT_FIELDS)[number];
export const MAX_SEARCH_LENGTH = 200;
/** Three characters make a trigram: shorter patterns could not use the search indexes and would read every post. */
export const MIN_SEARCH_LENGTH = 3;
/** pg_trgm takes trigrams from runs of letters and digits: a term without one (`___`, three spaces) has none. */
const SEARCHABLE = /[\p{L}\p{N}]{3}/u;

export class PostIncludeQueryDto {
  @ApiPropertyOptional({ enum: ['author'], description: "Embed each post's author" })
  @IsOptional()
  @IsIn(['author'])
  readonly include?: 'author';
}

export class ListPostsQueryDto extends IntersectionType(ListQueryDto(POST_SORT_FIELDS), PostIncludeQueryDto) {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_ID })
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(MAX_ID)
  readonly authorId?: number;

  @ApiPropertyOptional({ type: 'boolean' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  readonly published?: boolean;

  @ApiPropertyOptional({
    minLength: MIN_SEARCH_LENGTH,
    maxLength: MAX_SEARCH_LENGTH,
    description: 'Case-insensitive substring of the title or the body, 3–200 characters with at least 3 letters or digits in a row (served by trigram indexes); %, _ and \\ match themselves',
  })
  @IsOptional()
  @IsString()
  @Length(MIN_SEARCH_LENGTH, MAX_SEARCH_LENGTH)
  @Matches(SEARCHABLE, { message: 'q must contain 3 letters or digits in a row: the search index has nothing to look up otherwise' })
  @HasNoNul()
  readonly q?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: MAX_TAG_LENGTH, description: 'Only posts with this tag (case-insensitive); an unknown tag: an empty page' })
  @IsOptional()
  @IsSingleLineText(1, MAX_TAG_LENGTH)
  readonly tag?: string;
}

/** GET /users/:id/posts: the author comes from the path. */
export class UserPostsQueryDto extends OmitType(ListPostsQueryDto, ['authorId'] as const) {}
