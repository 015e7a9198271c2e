import { PartialType } from '@nestjs/swagger';
import { CreateUserDto } from './create-user.dto';

// skipNullProperties: false: `{ "name": null }` is a 400, not a no-op or a NOT NULL violation.
export class UpdateUserDto extends PartialType(CreateUserDto, { skipNullProperties: false }) {}
