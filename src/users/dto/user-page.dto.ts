import { PageDto } from '../../common/pagination/page.dto';
import { UserResponseDto } from './user-response.dto';

export class UserPageDto extends PageDto(UserResponseDto) {}
