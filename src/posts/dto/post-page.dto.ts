import { ApiSchema } from '@nestjs/swagger';
import { PageDto } from '../../common/pagination/page.dto';
import { PostResponseDto } from './post-response.dto';

@ApiSchema({ name: 'PostPage', description: 'A page of posts' })
export class PostPageDto extends PageDto(PostResponseDto) {}
