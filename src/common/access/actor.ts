/**
 * Who is making a request: set by the auth guard on every request, read by controllers with @CurrentActor() and
 * handed to services, whose resource policies decide what that actor may do. `undefined` is an anonymous caller.
 */
import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Actor {
  readonly id: number;
  readonly role: Role;
  /** The login session the access token belongs to. */
  readonly sessionId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Actor;
  }
}

export const PUBLIC_ROUTE_KEY = 'app:public-route';

/**
 * The route also serves anonymous callers (what they see is the resource policy's business). Every other route
 * needs a valid access token: the guard answers 401 without one. A token sent to a public route must be valid too.
 */
export const Public = (): ClassDecorator & MethodDecorator =>
  // OpenAPI: no credentials, or a bearer token (operations without this decorator require one).
  applyDecorators(SetMetadata(PUBLIC_ROUTE_KEY, true), ApiSecurity({}), ApiSecurity(BEARER_SCHEME));

export const OWN_CREDENTIALS_KEY = 'app:own-credentials';

/**
 * The route checks the Authorization header itself, against a credential of its own (GET /metrics: a scraper's
 * METRICS_TOKEN), so the AuthGuard does not read it as an access token. Only with @Public(); no actor is set.
 */
export const OwnCredentials = (): ClassDecorator & MethodDecorator => SetMetadata(OWN_CREDENTIALS_KEY, true);

/** The name of the bearer security scheme in the OpenAPI document. */
export const BEARER_SCHEME = 'bearer';

/** The request's actor, `undefined` when anonymous. */
export const CurrentActor = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Actor | undefined => context.switchToHttp().getRequest<FastifyRequest>().actor,
);

export function isAdmin(actor: Actor | undefined): boolean {
  return actor?.role === 'admin';
}
