import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsString, Length, Max, Min, ValidateIf } from 'class-validator';
import { HasNoNul, MAX_ID } from '../../common/validation/input-rules';

export const MAX_BODY_LENGTH = 100_000;

@ApiSchema({ name: 'CreatePost', description: 'A new post, by the caller unless an admin names another author' })
export class CreatePostDto {
  @ApiProperty({ minLength: 1, maxLength: 255, example: 'Hello, world' })
  @IsString()
  @Length(1, 255)
  @HasNoNul()
  readonly title!: string;

  @ApiProperty({ minLength: 1, maxLength: MAX_BODY_LENGTH, example: 'My first post.' })
  @IsString()
  @Length(1, MAX_BODY_LENGTH)
  @HasNoNul()
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
