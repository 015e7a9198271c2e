/**
 * What a resource policy answers, and the one way an answer becomes an HTTP error. Policies (users.policy.ts,
 * posts.policy.ts, one per resource) are pure functions of the actor and the resource; services ask them before
 * touching data and call `enforce` with the answer.
 *
 * - `unauthenticated` → 401 (with WWW-Authenticate, added by the exception filter): the route needs a token.
 * - `forbidden` → 403: the caller may see the resource but not do this to it.
 * - `hidden` → 404: the caller may not even know the resource exists (someone else's draft, a deleted row).
 */
import { ForbiddenException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import type { Actor } from './actor';

export type Decision = 'allow' | 'unauthenticated' | 'forbidden' | 'hidden';

/** A bearer token was sent and refused: the 401's challenge then says `error="invalid_token"` (RFC 6750). */
export class InvalidTokenException extends UnauthorizedException {}

export interface Denial {
  /** What the caller was refused, for the 403 message ("change the role of user 3"). */
  readonly action: string;
  /** The resource as a 404 names it ("Post 7"). */
  readonly resource: string;
}

export function enforce(decision: Decision, denial: Denial): void {
  switch (decision) {
    case 'allow':
      return;
    case 'unauthenticated':
      throw new UnauthorizedException('Authentication required');
    case 'forbidden':
      throw new ForbiddenException(`Not allowed to ${denial.action}`);
    case 'hidden':
      throw new NotFoundException(`${denial.resource} not found`);
  }
}

/** The decision for an action only admins may take. */
export function adminOnly(actor: Actor | undefined): Decision {
  if (!actor) return 'unauthenticated';
  return actor.role === 'admin' ? 'allow' : 'forbidden';
}
