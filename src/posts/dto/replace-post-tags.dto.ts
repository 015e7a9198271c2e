import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray } from 'class-validator';
import { IsSingleLineTextList } from '../../common/validation/text';
import { MAX_TAG_LENGTH } from '../../tags/models/tag.model';

export const MAX_TAGS_PER_POST = 20;

@ApiSchema({ name: 'ReplacePostTags', description: "A post's whole set of tags, by name" })
export class ReplacePostTagsDto {
  @ApiProperty({
    type: 'array',
    items: { type: 'string', minLength: 1, maxLength: MAX_TAG_LENGTH },
    maxItems: MAX_TAGS_PER_POST,
    example: ['nestjs', 'sequelize'],
    description:
      'Names compared case-insensitively, trimmed (the same name twice counts once); tags that do not exist yet are created. [] removes every tag.',
  })
  @IsArray()
  @ArrayMaxSize(MAX_TAGS_PER_POST)
  @IsSingleLineTextList(1, MAX_TAG_LENGTH)
  readonly tags!: string[];
}
