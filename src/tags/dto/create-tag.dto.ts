import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IsSingleLineText } from '../../common/validation/text';
import { MAX_TAG_LENGTH } from '../models/tag.model';

@ApiSchema({ name: 'CreateTag', description: 'A new tag' })
export class CreateTagDto {
  @ApiProperty({
    minLength: 1,
    maxLength: MAX_TAG_LENGTH,
    example: 'sequelize',
    description: 'Stored trimmed, composed (NFC) and lower-cased; unique among live tags (409); no control or invisible characters',
  })
  @IsSingleLineText(1, MAX_TAG_LENGTH)
  readonly name!: string;
}
