import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsString, Length, MaxLength, ValidateIf } from 'class-validator';
import { HasNoNul } from '../../common/validation/input-rules';
import { USER_ROLES, type UserRole } from '../models/user.model';

@ApiSchema({ name: 'CreateUser', description: 'A new user' })
export class CreateUserDto {
  @ApiProperty({ minLength: 2, maxLength: 100, example: 'Ada Lovelace' })
  @IsString()
  @Length(2, 100)
  @HasNoNul()
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
