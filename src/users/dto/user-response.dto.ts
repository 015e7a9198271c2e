import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type { Actor } from '../../common/access/actor';
import { PostResponseDto } from '../../posts/dto/post-response.dto';
import { USER_ROLES, type UserAttributes, type UserRole } from '../models/user.model';
import { UsersPolicy } from '../users.policy';

@ApiSchema({
  name: 'User',
  description: 'A user. `email` is present only for the user themselves and for admins; `posts` and `postCount` only with include=posts.',
})
export class UserResponseDto {
  @ApiProperty({ type: 'integer', minimum: 1 })
  readonly id!: number;

  @ApiProperty({ minLength: 2, maxLength: 100 })
  readonly name!: string;

  @ApiPropertyOptional({ format: 'email', maxLength: 255, description: 'Shown to the user themselves and to admins only' })
  readonly email?: string;

  @ApiProperty({ enum: USER_ROLES })
  readonly role!: UserRole;

  @ApiProperty({ type: 'string', format: 'date-time' })
  readonly createdAt!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  readonly updatedAt!: string;

  @ApiPropertyOptional({
    type: () => [PostResponseDto],
    description: 'Present with include=posts: the newest of the posts the caller may see, at most postsLimit of them',
  })
  readonly posts?: PostResponseDto[];

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'Present with include=posts: how many posts the caller may see (with the published filter, if any)',
  })
  readonly postCount?: number;
}

export type UserRow = Pick<UserAttributes, 'id' | 'name' | 'email' | 'role' | 'createdAt' | 'updatedAt'>;

/** A user as `viewer` may see it (undefined: anonymous). */
export function toUserResponse(row: UserRow, viewer: Actor | undefined): UserResponseDto {
  return {
    id: row.id,
    name: row.name,
    ...(UsersPolicy.canReadEmail(viewer, row.id) && { email: row.email }),
    role: row.role,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
