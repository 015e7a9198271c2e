import { ApiSchema, PartialType } from '@nestjs/swagger';
import { CreatePostDto } from './create-post.dto';

// skipNullProperties: false: `{ "title": null }` is a 400, not a no-op or a NOT NULL violation.
@ApiSchema({ name: 'UpdatePost', description: 'The fields to change; absent fields keep their value' })
export class UpdatePostDto extends PartialType(CreatePostDto, { skipNullProperties: false }) {}
