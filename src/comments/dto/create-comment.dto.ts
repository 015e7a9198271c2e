import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IsSingleLineText } from '../../common/validation/text';

export const MAX_NAME_LENGTH = 200;

@ApiSchema({ name: 'CreateComment', description: 'A new comment' })
export class CreateCommentDto {
  @ApiProperty({
    minLength: 1,
    maxLength: MAX_NAME_LENGTH,
    example: 'A name',
    description: 'Stored trimmed and composed (NFC); no control or invisible characters',
  })
  @IsSingleLineText(1, MAX_NAME_LENGTH)
  readonly name!: string;
}
