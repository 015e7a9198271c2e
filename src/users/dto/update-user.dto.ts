import { ApiPropertyOptional, ApiSchema, PartialType } from '@nestjs/swagger';
import { ValidateIf } from 'class-validator';
import { IsPassword, PASSWORD_MAX_LENGTH } from '../../common/validation/input-rules';
import { CreateAccountDto } from './create-user.dto';

// skipNullProperties: false: `{ "name": null }` is a 400, not a no-op or a NOT NULL violation.
@ApiSchema({ name: 'UpdateUser', description: 'The fields to change; absent fields keep their value' })
export class UpdateUserDto extends PartialType(CreateAccountDto, { skipNullProperties: false }) {
  @ApiPropertyOptional({
    maxLength: PASSWORD_MAX_LENGTH,
    format: 'password',
    writeOnly: true,
    description: 'Required with `password` when changing your own password',
  })
  @ValidateIf((_object, value) => value !== undefined)
  @IsPassword({ checkLength: false })
  readonly currentPassword?: string;
}
