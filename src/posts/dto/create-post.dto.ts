import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsBoolean, IsInt, Max, Min, ValidateIf } from 'class-validator';
import { MAX_ID } from '../../common/validation/input-rules';
import { IsProse, IsSingleLineText } from '../../common/validation/text';

/** Bounds every post in a response (see the README's worst-case sizes). */
export const MAX_BODY_LENGTH = 20_000;
export const MAX_TITLE_LENGTH = 255;

@ApiSchema({ name: 'CreatePost', description: 'A new post, by the caller unless an admin names another author' })
export class CreatePostDto {
  @ApiProperty({
    minLength: 1,
    maxLength: MAX_TITLE_LENGTH,
    example: 'Hello, world',
    description: 'Stored trimmed and composed (NFC); no control or invisible characters',
  })
  @IsSingleLineText(1, MAX_TITLE_LENGTH)
  readonly title!: string;

  @ApiProperty({
    minLength: 1,
    maxLength: MAX_BODY_LENGTH,
    example: 'My first post.',
    description: 'Characters (code points); tabs and line breaks allowed, other control characters not',
  })
  @IsProse(1, MAX_BODY_LENGTH)
  readonly body!: string;

  @ApiPropertyOptional({ default: false, example: false })
  @ValidateIf((_object, value) => value !== undefined)
  @IsBoolean()
  readonly published?: boolean;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_ID,
    description: 'A live user; defaults to the caller. Only admins may name another author.',
    example: 1,
  })
  @ValidateIf((_object, value) => value !== undefined)
  @IsInt()
  @Min(1)
  @Max(MAX_ID)
  readonly authorId?: number;
}
