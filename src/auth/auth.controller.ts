import { applyDecorators, Body, Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { type Actor, CurrentActor, Public } from '../common/access/actor';
import { TransactionalRoutes } from '../common/interceptors/transactional-routes.decorator';
import { Transactional } from '../common/interceptors/transactional.decorator';
import { AuthRateLimit } from '../common/rate-limit/rate-limit';
import { UserResponseDto } from '../users/dto/user-response.dto';
import { AuthService } from './auth.service';
import { LoginDto, RefreshDto, RegisterDto } from './dto/credentials.dto';
import { TokensResponseDto } from './dto/tokens-response.dto';

/**
 * register, login and refresh: open to anyone, under the strict rate limits, and outside the request transaction (they
 * hash or check a password before writing, and a refresh that answers a reused token with 401 must keep the
 * revocation it wrote: each writes in one short transaction of its own).
 */
const CredentialsRoute = (): MethodDecorator => applyDecorators(Public(), Transactional(false), AuthRateLimit());

@TransactionalRoutes()
@ApiTags('auth')
@Controller({ path: 'auth', version: '1' })
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('register')
  @CredentialsRoute()
  @ApiOperation({ summary: 'Create an account and log in', description: 'The role is always `user`.', operationId: 'register' })
  @ApiCreatedResponse({ type: TokensResponseDto, description: 'The new account and its first session' })
  @ApiBadRequestResponse({ description: 'Invalid body (a password of 12–128 characters; no other fields, `role` included)' })
  @ApiConflictResponse({ description: 'Email already used by a live user' })
  register(@Body() dto: RegisterDto): Promise<TokensResponseDto> {
    return this.auth.register(dto);
  }

  @Post('login')
  @CredentialsRoute()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Log in with email and password', operationId: 'login' })
  @ApiOkResponse({ type: TokensResponseDto, description: 'A new session' })
  @ApiBadRequestResponse({ description: 'Invalid body' })
  @ApiUnauthorizedResponse({ description: 'Invalid email or password (the same answer for an unknown email)' })
  login(@Body() dto: LoginDto): Promise<TokensResponseDto> {
    return this.auth.login(dto);
  }

  @Post('refresh')
  @CredentialsRoute()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Exchange a refresh token for a new pair',
    description: 'The token sent is dead afterwards. Sending a token that was already exchanged ends its whole session.',
    operationId: 'refresh',
  })
  @ApiOkResponse({ type: TokensResponseDto, description: 'New tokens of the same session' })
  @ApiBadRequestResponse({ description: 'Invalid body' })
  @ApiUnauthorizedResponse({ description: 'Unknown, expired or already used refresh token, or an ended session' })
  refresh(@Body() dto: RefreshDto): Promise<TokensResponseDto> {
    return this.auth.refresh(dto.refreshToken);
  }

  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'End this session', description: 'Its refresh token and access tokens stop working at once.', operationId: 'logout' })
  @ApiNoContentResponse({ description: 'Session ended' })
  logout(@CurrentActor() actor: Actor): Promise<void> {
    return this.auth.logout(actor);
  }

  @Get('me')
  @ApiOperation({ summary: 'The caller’s own account', operationId: 'getMe' })
  @ApiOkResponse({ type: UserResponseDto, description: 'The caller, with email' })
  me(@CurrentActor() actor: Actor): Promise<UserResponseDto> {
    return this.auth.me(actor);
  }
}
