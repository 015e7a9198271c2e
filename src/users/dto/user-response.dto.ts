import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { PostResponseDto } from '../../posts/dto/post-response.dto';
import { USER_ROLES, type UserAttributes, type UserRole } from '../models/user.model';

@ApiSchema({ name: 'User', description: 'A user. `posts` is present only when asked for with include=posts.' })
export class UserResponseDto {
  @ApiProperty({ type: 'integer', minimum: 1 })
  readonly id!: number;

  @ApiProperty({ minLength: 2, maxLength: 100 })
  readonly name!: string;

  @ApiProperty({ format: 'email', maxLength: 255 })
  readonly email!: string;

  @ApiProperty({ enum: USER_ROLES })
  readonly role!: UserRole;

  @ApiProperty({ type: 'string', format: 'date-time' })
  readonly createdAt!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  readonly updatedAt!: string;

  @ApiPropertyOptional({ type: () => [PostResponseDto], description: 'Present with include=posts' })
  readonly posts?: PostResponseDto[];
}

export type UserRow = Pick<UserAttributes, 'id' | 'name' | 'email' | 'role' | 'createdAt' | 'updatedAt'>;

export function toUserResponse(row: UserRow): UserResponseDto {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    role: row.role,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
