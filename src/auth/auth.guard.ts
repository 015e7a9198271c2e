/**
 * Authentication for every route (a global guard): who is calling, nothing about what they may do (that is each
 * resource's policy). A route marked @Public() also serves anonymous callers; every other one needs
 * `Authorization: Bearer <access token>`. A token, when sent, must be valid on any route: a signed, unexpired
 * access token of this service whose login session is still live (one primary-key probe per authenticated
 * request, so logout, a password or role change and deletion end a token at once). Anonymous requests cost
 * nothing here beyond a header lookup.
 */
import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { InvalidTokenException } from '../common/access/access';
import { OWN_CREDENTIALS_KEY, PUBLIC_ROUTE_KEY } from '../common/access/actor';
import { SessionsService } from '../sessions/sessions.service';
import { TokensService } from './tokens.service';

const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*) *$/i;

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokensService,
    private readonly sessions: SessionsService,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers.authorization;
    const targets = [context.getHandler(), context.getClass()];
    if (header === undefined) {
      if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE_KEY, targets)) return true;
      throw new UnauthorizedException('Authentication required: send Authorization: Bearer <access token>');
    }
    // The header carries the route's own credential (@OwnCredentials), which that route checks.
    if (this.reflector.getAllAndOverride<boolean | undefined>(OWN_CREDENTIALS_KEY, targets)) return true;
    return this.authenticate(request, header);
  }

  private async authenticate(request: FastifyRequest, header: string): Promise<boolean> {
    const token = BEARER.exec(header)?.[1];
    if (!token) throw new InvalidTokenException('The Authorization header must be "Bearer <access token>"');
    const actor = this.tokens.verifyAccessToken(token);
    if (!actor) throw new InvalidTokenException('Invalid or expired access token');
    if (!(await this.sessions.isLive(actor.sessionId, actor.id))) throw new InvalidTokenException('The session of this access token has ended: log in again');
    request.actor = actor;
    return true;
  }
}
