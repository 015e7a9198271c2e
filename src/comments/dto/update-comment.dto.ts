import { ApiSchema, PartialType } from '@nestjs/swagger';
import { CreateCommentDto } from './create-comment.dto';

// skipNullProperties: false: `{ "name": null }` is a 400, not a no-op or a NOT NULL violation.
@ApiSchema({ name: 'UpdateComment', description: 'The fields to change; absent fields keep their value' })
export class UpdateCommentDto extends PartialType(CreateCommentDto, { skipNullProperties: false }) {}
