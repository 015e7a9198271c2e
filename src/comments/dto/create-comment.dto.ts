import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { IsProse } from '../../common/validation/text';

/** Bounds every comment in a response (a page of 100 is at most 500,000 characters of bodies). */
export const MAX_COMMENT_LENGTH = 5_000;

@ApiSchema({ name: 'CreateComment', description: 'A new comment, by the caller, on a post the caller can see' })
export class CreateCommentDto {
  @ApiProperty({
    minLength: 1,
    maxLength: MAX_COMMENT_LENGTH,
    example: 'Nice post.',
    description: 'Characters (code points); tabs and line breaks allowed, other control characters not',
  })
  @IsProse(1, MAX_COMMENT_LENGTH)
  readonly body!: string;
}
