import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { PageDto } from '../../common/pagination/page.dto';
import { MAX_TAG_LENGTH, type TagAttributes } from '../models/tag.model';

/** A tag as a post carries it: what other modules embed. */
@ApiSchema({ name: 'TagSummary', description: 'A tag, without its counts' })
export class TagSummaryDto {
  @ApiProperty({ type: 'integer', minimum: 1 })
  readonly id!: number;

  @ApiProperty({ minLength: 1, maxLength: MAX_TAG_LENGTH, description: 'Lower-case, trimmed: unique among live tags' })
  readonly name!: string;
}

@ApiSchema({ name: 'Tag', description: 'A tag, with the number of live published posts that carry it' })
export class TagResponseDto extends TagSummaryDto {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Live published posts with this tag (drafts are not counted)' })
  readonly postCount!: number;

  @ApiProperty({ type: 'string', format: 'date-time' })
  readonly createdAt!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  readonly updatedAt!: string;
}

@ApiSchema({ name: 'TagPage', description: 'A page of tags' })
export class TagPageDto extends PageDto(TagResponseDto) {}

@ApiSchema({ name: 'PostTags', description: "A post's tags, by name" })
export class PostTagsResponseDto {
  @ApiProperty({ type: [TagSummaryDto] })
  readonly data!: TagSummaryDto[];
}

export type TagRow = Pick<TagAttributes, 'id' | 'name' | 'createdAt' | 'updatedAt'>;

export function toTagResponse(row: TagRow, postCount: number): TagResponseDto {
  return {
    id: row.id,
    name: row.name,
    postCount,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toTagSummary(row: Pick<TagRow, 'id' | 'name'>): TagSummaryDto {
  return { id: row.id, name: row.name };
}
