import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { MAX_ID } from '../../common/pagination/parse-id.pipe';

// Postgres text cannot hold NUL; rejecting it here keeps it from becoming a database error.
const NO_NUL = /^[^\u0000]*$/;
export const MAX_BODY_LENGTH = 100_000;

export class CreatePostDto {
  @ApiProperty({ minLength: 1, maxLength: 255, example: 'Hello, world' })
  @IsString()
  @Length(1, 255)
  @Matches(NO_NUL, { message: '$property must not contain NUL characters' })
  readonly title!: string;

  @ApiProperty({ minLength: 1, maxLength: MAX_BODY_LENGTH, example: 'My first post.' })
  @IsString()
  @Length(1, MAX_BODY_LENGTH)
  @Matches(NO_NUL, { message: '$property must not contain NUL characters' })
  readonly body!: string;

  @ApiPropertyOptional({ default: false })
  @ValidateIf((_object, value) => value !== undefined)
  @IsBoolean()
  readonly published?: boolean;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_ID, description: 'A live user' })
  @IsInt()
  @Min(1)
  @Max(MAX_ID)
  readonly authorId!: number;
}
