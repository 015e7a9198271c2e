import { PageDto } from '../../common/pagination/page.dto';
import { PostResponseDto } from './post-response.dto';

export class PostPageDto extends PageDto(PostResponseDto) {}
