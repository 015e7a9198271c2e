import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ValidateNested } from 'class-validator';
import { IsArrayOfObjects } from '../../common/validation/input-rules';
import { CreateUserDto } from './create-user.dto';
import { UserResponseDto } from './user-response.dto';

export const MAX_BULK_USERS = 1000;

@ApiSchema({ name: 'BulkUpsertUsers', description: 'Users to create or update by email' })
export class BulkUpsertUsersDto {
  @ApiProperty({
    type: () => [CreateUserDto],
    minItems: 1,
    maxItems: MAX_BULK_USERS,
    description: 'Emails must be distinct (compared trimmed and lower-cased). A live user with the same email gets its name updated and keeps its role.',
  })
  @IsArrayOfObjects()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BULK_USERS)
  @ValidateNested({ each: true })
  @Type(() => CreateUserDto)
  readonly users!: CreateUserDto[];
}

@ApiSchema({ name: 'BulkUpsertUsersResult', description: 'The users written, one per row sent' })
export class BulkUpsertUsersResponseDto {
  @ApiProperty({ type: () => [UserResponseDto], description: 'One user per row sent, in the same order' })
  readonly data!: UserResponseDto[];
}
