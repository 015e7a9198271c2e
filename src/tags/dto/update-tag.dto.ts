import { ApiSchema, PartialType } from '@nestjs/swagger';
import { CreateTagDto } from './create-tag.dto';

// skipNullProperties: false: `{ "name": null }` is a 400, not a no-op or a NOT NULL violation.
@ApiSchema({ name: 'UpdateTag', description: 'The fields to change; absent fields keep their value' })
export class UpdateTagDto extends PartialType(CreateTagDto, { skipNullProperties: false }) {}
