/**
 * Accounts and login sessions: registration, login, refresh-token rotation and logout. Passwords are hashed and
 * checked before any transaction opens (a hash takes tens of milliseconds and must not hold a pooled connection),
 * so these routes opt out of the request transaction and write in one short transaction of their own.
 */
import { Injectable, UnauthorizedException } from '@nestjs/common';
import { Sequelize } from 'sequelize-typescript';
import type { Actor } from '../common/access/actor';
import { inTransaction } from '../common/database/transaction-context';
import type { IssuedSession } from '../sessions/sessions.service';
import { SessionsService } from '../sessions/sessions.service';
import { toUserResponse, type UserResponseDto, type UserRow } from '../users/dto/user-response.dto';
import { UsersService } from '../users/users.service';
import type { LoginDto, RegisterDto } from './dto/credentials.dto';
import type { TokensResponseDto } from './dto/tokens-response.dto';
import { TokensService } from './tokens.service';

// The same answer for an unknown email, a wrong password and an account without one.
const BAD_CREDENTIALS = 'Invalid email or password';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly tokens: TokensService,
    private readonly sequelize: Sequelize,
  ) {}

  async register(dto: RegisterDto): Promise<TokensResponseDto> {
    const passwordHash = await this.users.hashPassword(dto.password);
    // A taken email fails on the unique index (409 from the filter) and nothing is written.
    return inTransaction(this.sequelize, async () => {
      const user = await this.users.createAccount({ name: dto.name, email: dto.email, passwordHash });
      return this.respond(user, await this.sessions.start(user.id));
    });
  }

  async login(dto: LoginDto): Promise<TokensResponseDto> {
    const user = await this.users.verifyCredentials(dto.email, dto.password);
    if (!user) throw new UnauthorizedException(BAD_CREDENTIALS);
    return this.respond(user, await this.sessions.start(user.id));
  }

  async refresh(refreshToken: string): Promise<TokensResponseDto> {
    const rotation = await this.sessions.rotate(refreshToken);
    if (rotation.outcome === 'reused') throw new UnauthorizedException('Refresh token already used: the session has been ended, log in again');
    if (rotation.outcome === 'invalid') throw new UnauthorizedException('Invalid or expired refresh token');
    // Who the token will name: never from a lagging read replica (a deleted user, a changed role).
    const user = await this.users.findLive(rotation.userId, { fromPrimary: true });
    if (!user) {
      await this.sessions.revoke(rotation.sessionId);
      throw new UnauthorizedException('Invalid or expired refresh token');
    }
    return this.respond(user, rotation);
  }

  logout(actor: Actor): Promise<void> {
    return this.sessions.revoke(actor.sessionId);
  }

  async me(actor: Actor): Promise<UserResponseDto> {
    const user = await this.users.findLive(actor.id);
    // The guard saw a live session, and deleting a user ends its sessions: only a race gets here.
    if (!user) throw new UnauthorizedException('The session of this access token has ended: log in again');
    return toUserResponse(user, actor);
  }

  private respond(user: UserRow, session: IssuedSession): TokensResponseDto {
    const actor: Actor = { id: user.id, role: user.role, sessionId: session.sessionId };
    return {
      user: toUserResponse(user, actor),
      accessToken: this.tokens.issueAccessToken(actor),
      refreshToken: session.refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.tokens.accessTokenTtlSeconds,
    };
  }
}
