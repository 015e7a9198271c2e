import { ListQueryDto } from '../../common/pagination/list-query.dto';

export const COMMENT_SORT_FIELDS = ['id', 'createdAt', 'updatedAt'] as const;

/** limit, offset and sort; being a class, unknown parameters are rejected by the global ValidationPipe. */
export class ListCommentsQueryDto extends ListQueryDto(COMMENT_SORT_FIELDS) {}
