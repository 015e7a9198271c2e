import { ApiSchema } from '@nestjs/swagger';
import { PageDto } from '../../common/pagination/page.dto';
import { UserResponseDto } from './user-response.dto';

@ApiSchema({ name: 'UserPage', description: 'A page of users' })
export class UserPageDto extends PageDto(UserResponseDto) {}
