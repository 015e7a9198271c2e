import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsIn, ValidateIf } from 'class-validator';
import { EMAIL_MAX_LENGTH, IsEmailAddress } from '../../common/validation/email';
import { IsPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../common/validation/input-rules';
import { IsSingleLineText } from '../../common/validation/text';
import { USER_ROLES, type UserRole } from '../models/user.model';

/** A user's profile fields: what every way of creating users takes (bulk rows carry no password). */
@ApiSchema({ name: 'NewUser', description: 'A user to create or update by email' })
export class CreateUserDto {
  @ApiProperty({
    minLength: 2,
    maxLength: 100,
    example: 'Ada Lovelace',
    description: 'Stored trimmed and composed (NFC); no control or invisible characters',
  })
  @IsSingleLineText(2, 100)
  readonly name!: string;

  @ApiProperty({
    format: 'email',
    maxLength: EMAIL_MAX_LENGTH,
    example: 'ada@example.com',
    description:
      'Stored trimmed, NFKC-normalised and case-folded (ß → ss); addresses with invisible characters, marks on plain letters ' +
      'or mixed writing systems within one part are refused',
  })
  @IsEmailAddress()
  readonly email!: string;

  @ApiPropertyOptional({ enum: USER_ROLES, default: 'user', description: 'Set by admins only' })
  // Absent means the default; an explicit null is an error, not "unset".
  @ValidateIf((_object, value) => value !== undefined)
  @IsIn(USER_ROLES)
  readonly role?: UserRole;
}

/** What an admin sends to create an account: a password is optional (an account without one cannot log in). */
@ApiSchema({ name: 'CreateUser', description: 'A new user, created by an admin' })
export class CreateAccountDto extends CreateUserDto {
  @ApiPropertyOptional({
    minLength: PASSWORD_MIN_LENGTH,
    maxLength: PASSWORD_MAX_LENGTH,
    format: 'password',
    writeOnly: true,
    description: 'Without one the account cannot log in',
  })
  @ValidateIf((_object, value) => value !== undefined)
  @IsPassword()
  readonly password?: string;
}
