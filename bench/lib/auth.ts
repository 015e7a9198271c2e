/**
 * The benchmark's callers under access control (issue 10): the login sessions seeded for a sample of users, and
 * their access tokens, signed as the app signs them (src/auth/tokens.service.ts): HS256 with the run's JWT_SECRET,
 * claims `sub` (the user id as a string), `sid` (the session) and `role`, with the app's issuer, audience and
 * lifetime. Issuer, audience and lifetimes are the app's own defaults (src/config/environment.ts), and the harness
 * hands the same values to both servers, so the three cannot disagree.
 */
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { Environment } from '../../src/config/environment';

export interface SessionUser {
  userId: number;
  sessionId: string;
  role: 'user' | 'admin';
}

export interface AuthSettings {
  /** Random per run, 48 bytes (production needs at least 32). */
  secret: string;
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  /** How long a seeded session lives, as the app's login does. */
  sessionTtlSeconds: number;
}

export function authSettings(): AuthSettings {
  const defaults = new Environment();
  return {
    secret: randomBytes(48).toString('base64'),
    issuer: defaults.JWT_ISSUER,
    audience: defaults.JWT_AUDIENCE,
    accessTokenTtlSeconds: defaults.ACCESS_TOKEN_TTL_SECONDS,
    sessionTtlSeconds: defaults.REFRESH_TOKEN_TTL_SECONDS,
  };
}

/** What both servers are started with: the app reads these names, and so does the baseline. */
export function authEnvironment(settings: AuthSettings): Record<string, string> {
  return {
    JWT_SECRET: settings.secret,
    JWT_ISSUER: settings.issuer,
    JWT_AUDIENCE: settings.audience,
    ACCESS_TOKEN_TTL_SECONDS: String(settings.accessTokenTtlSeconds),
    // Every request of the bench comes from 127.0.0.1: the per-IP limits would answer 429 within a second.
    RATE_LIMIT: 'off',
  };
}

/**
 * One access token per session, re-signed at half its lifetime as a client refreshing ahead of expiry would (a full
 * run lasts longer than the 15 minutes a token lives). Signing happens once per session and half-life, not per request.
 */
export class AccessTokens {
  private readonly issued = new Map<string, { token: string; renewAt: number }>();

  constructor(private readonly settings: AuthSettings) {}

  for(session: SessionUser): string {
    const now = Date.now();
    const cached = this.issued.get(session.sessionId);
    if (cached && cached.renewAt > now) return cached.token;
    const token = this.sign(session, this.settings.secret);
    this.issued.set(session.sessionId, { token, renewAt: now + this.settings.accessTokenTtlSeconds * 500 });
    return token;
  }

  /** A well-formed token of the session signed with another key (the contract check's 401 probe). */
  withWrongKey(session: SessionUser): string {
    return this.sign(session, randomBytes(48).toString('base64'));
  }

  // The app: jwt.sign({ sid, role }, { subject }) with signOptions { algorithm, expiresIn, issuer, audience }.
  private sign(session: SessionUser, secret: string): string {
    return jwt.sign({ sid: session.sessionId, role: session.role }, secret, {
      algorithm: 'HS256',
      subject: String(session.userId),
      expiresIn: this.settings.accessTokenTtlSeconds,
      issuer: this.settings.issuer,
      audience: this.settings.audience,
    });
  }
}
