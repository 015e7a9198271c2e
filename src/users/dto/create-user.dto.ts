import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsString, Length, Matches, MaxLength, ValidateIf } from 'class-validator';
import { USER_ROLES, type UserRole } from '../models/user.model';

// Postgres text cannot hold NUL; rejecting it here keeps it from becoming a database error.
export const NO_NUL = /^[^\u0000]*$/;

export class CreateUserDto {
  @ApiProperty({ minLength: 2, maxLength: 100, example: 'Ada Lovelace' })
  @IsString()
  @Length(2, 100)
  @Matches(NO_NUL, { message: '$property must not contain NUL characters' })
  readonly name!: string;

  @ApiProperty({ format: 'email', maxLength: 255, example: 'ada@example.com', description: 'Stored trimmed and lower-cased' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MaxLength(255)
  @IsEmail()
  readonly email!: string;

  @ApiPropertyOptional({ enum: USER_ROLES, default: 'user' })
  // Absent means the default; an explicit null is an error, not "unset".
  @ValidateIf((_object, value) => value !== undefined)
  @IsIn(USER_ROLES)
  readonly role?: UserRole;
}
