import { PartialType } from '@nestjs/swagger';
import { CreatePostDto } from './create-post.dto';

// skipNullProperties: false: `{ "title": null }` is a 400, not a no-op or a NOT NULL violation.
export class UpdatePostDto extends PartialType(CreatePostDto, { skipNullProperties: false }) {}
