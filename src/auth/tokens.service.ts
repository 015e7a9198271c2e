/**
 * Access tokens: JWTs signed with HS256 and JWT_SECRET (a random per-process key in development and test when
 * unset), short-lived, naming the user (`sub`), their role and their login session (`sid`). Verification pins the
 * algorithm and checks issuer, audience, expiry and not-before; anything else about the token is refused.
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService, type JwtModuleOptions } from '@nestjs/jwt';
import { type Actor, ROLES, type Role } from '../common/access/actor';
import { type Environment, NodeEnv } from '../config/environment';

interface AccessClaims {
  exp?: unknown;
  sub?: unknown;
  sid?: unknown;
  role?: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ALGORITHM = 'HS256';

export function jwtOptions(config: ConfigService<Environment, true>): JwtModuleOptions {
  const setting = <K extends keyof Environment>(key: K): Environment[K] => config.get(key, { infer: true });
  let secret = setting('JWT_SECRET');
  if (!secret) {
    // validateEnvironment refuses a missing secret in production; elsewhere tokens simply die with the process.
    if (setting('NODE_ENV') === NodeEnv.Development) {
      new Logger('Auth').warn('JWT_SECRET is not set: access tokens are signed with a random key and stop working when the process restarts');
    }
    secret = randomBytes(48).toString('base64');
  }
  return {
    // A KeyObject, made once: given a string, jsonwebtoken first tries to parse it as a PEM public key (and throws)
    // on every sign and verify, which was 5 % of an authenticated request's CPU (bench/README.md, round 9).
    secret: createSecretKey(Buffer.from(secret)),
    signOptions: {
      algorithm: ALGORITHM,
      expiresIn: setting('ACCESS_TOKEN_TTL_SECONDS'),
      issuer: setting('JWT_ISSUER'),
      audience: setting('JWT_AUDIENCE'),
    },
    verifyOptions: { algorithms: [ALGORITHM], issuer: setting('JWT_ISSUER'), audience: setting('JWT_AUDIENCE') },
  };
}

@Injectable()
export class TokensService {
  readonly accessTokenTtlSeconds: number;

  constructor(
    private readonly jwt: JwtService,
    config: ConfigService<Environment, true>,
  ) {
    this.accessTokenTtlSeconds = config.get('ACCESS_TOKEN_TTL_SECONDS', { infer: true });
  }

  issueAccessToken(actor: Actor): string {
    return this.jwt.sign({ sid: actor.sessionId, role: actor.role }, { subject: String(actor.id) });
  }

  /** The actor a token names, or undefined when it is not a valid, current access token of this service. */
  verifyAccessToken(token: string): Actor | undefined {
    let claims: AccessClaims;
    try {
      claims = this.jwt.verify<AccessClaims & object>(token);
    } catch {
      return undefined;
    }
    // jsonwebtoken checks exp only when present; every token this service signs has one.
    if (typeof claims.exp !== 'number') return undefined;
    const id = typeof claims.sub === 'string' && /^[1-9]\d{0,9}$/.test(claims.sub) ? Number(claims.sub) : NaN;
    if (!Number.isSafeInteger(id) || typeof claims.sid !== 'string' || !UUID.test(claims.sid)) return undefined;
    if (!ROLES.includes(claims.role as Role)) return undefined;
    return { id, role: claims.role as Role, sessionId: claims.sid };
  }
}
