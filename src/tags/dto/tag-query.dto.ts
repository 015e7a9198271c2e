import { ListQueryDto } from '../../common/pagination/list-query.dto';

export const TAG_SORT_FIELDS = ['id', 'name', 'createdAt', 'updatedAt'] as const;

/** limit, offset and sort; being a class, unknown parameters are rejected by the global ValidationPipe. */
export class ListTagsQueryDto extends ListQueryDto(TAG_SORT_FIELDS) {}
