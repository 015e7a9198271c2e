import { ApiProperty, ApiSchema, PickType } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { IsPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../common/validation/input-rules';
import { CreateUserDto } from '../../users/dto/create-user.dto';

@ApiSchema({ name: 'Register', description: 'A new account; its role is always `user`' })
export class RegisterDto extends PickType(CreateUserDto, ['name', 'email'] as const) {
  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH, format: 'password', writeOnly: true, example: 'correct horse battery staple' })
  @IsPassword()
  readonly password!: string;
}

@ApiSchema({ name: 'Login', description: 'Email and password of an account' })
export class LoginDto extends PickType(CreateUserDto, ['email'] as const) {
  @ApiProperty({ maxLength: PASSWORD_MAX_LENGTH, format: 'password', writeOnly: true, example: 'correct horse battery staple' })
  @IsPassword({ checkLength: false })
  readonly password!: string;
}

@ApiSchema({ name: 'Refresh', description: 'The refresh token of a live session' })
export class RefreshDto {
  @ApiProperty({
    maxLength: 512,
    description: 'As returned by login, register or the previous refresh; each works once',
    example: 'kq3N0f8vJm2uYw5hXc9TgB4rLd7sPa1ZeQ6oUi0nHyE',
  })
  @IsString()
  @MaxLength(512)
  readonly refreshToken!: string;
}
