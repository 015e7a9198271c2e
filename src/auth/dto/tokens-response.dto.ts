import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { UserResponseDto } from '../../users/dto/user-response.dto';

@ApiSchema({ name: 'Tokens', description: 'The tokens of a login session, and who they belong to' })
export class TokensResponseDto {
  @ApiProperty({ type: () => UserResponseDto, description: 'The account, with its email' })
  readonly user!: UserResponseDto;

  @ApiProperty({ description: 'Send as `Authorization: Bearer <accessToken>`; valid for `expiresIn` seconds or until logout' })
  readonly accessToken!: string;

  @ApiProperty({ description: 'Opaque; exchange it once at /auth/refresh for a new pair. Using it twice ends the session.' })
  readonly refreshToken!: string;

  @ApiProperty({ enum: ['Bearer'] })
  readonly tokenType!: 'Bearer';

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Lifetime of the access token in seconds' })
  readonly expiresIn!: number;
}
