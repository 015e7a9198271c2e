import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type { Actor } from '../../common/access/actor';
import { USER_ROLES, type UserAttributes, type UserRole } from '../models/user.model';
import { UsersPolicy } from '../users.policy';

/**
 * A user's own fields, without anything embedded: what other modules embed (a post's author). Kept apart from
 * UserResponseDto, which embeds posts, so that the posts module's DTOs import no file that imports them back.
 */
@ApiSchema({
  name: 'UserSummary',
  description: 'A user without embedded resources. `email` is present only for the user themselves and for admins.',
})
export class UserSummaryDto {
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
}

export type UserRow = Pick<UserAttributes, 'id' | 'name' | 'email' | 'role' | 'createdAt' | 'updatedAt' | 'version'>;

/** A user as `viewer` may see it (undefined: anonymous). */
export function toUserSummary(row: UserRow, viewer: Actor | undefined): UserSummaryDto {
  return {
    id: row.id,
    name: row.name,
    ...(UsersPolicy.canReadEmail(viewer, row.id) && { email: row.email }),
    role: row.role,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
