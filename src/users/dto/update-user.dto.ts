import { ApiSchema, PartialType } from '@nestjs/swagger';
import { CreateUserDto } from './create-user.dto';

// skipNullProperties: false: `{ "name": null }` is a 400, not a no-op or a NOT NULL violation.
@ApiSchema({ name: 'UpdateUser', description: 'The fields to change; absent fields keep their value' })
export class UpdateUserDto extends PartialType(CreateUserDto, { skipNullProperties: false }) {}
