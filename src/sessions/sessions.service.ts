/**
 * Login sessions and their refresh tokens. A session lives until it expires or is revoked (logout, password or role
 * change, deletion of its user, or reuse of one of its rotated refresh tokens); the auth guard accepts an access
 * token only while its session lives.
 *
 * Refresh tokens are 256 random bits, handed out once and stored only as their SHA-256 (a fast hash is right for a
 * high-entropy secret: there is nothing to guess). Each refresh replaces the token; a replaced token presented again
 * means it was copied, so the whole session is revoked (rotation with reuse detection). The tables are reached only
 * through SessionsRepository and RefreshTokensRepository.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Sequelize } from 'sequelize-typescript';
import { inTransaction } from '../common/database/transaction-context';
import type { Environment } from '../config/environment';
import { RecentWriters } from '../database/replicas/recent-writers';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { SessionsRepository } from './sessions.repository';

export interface IssuedSession {
  readonly sessionId: string;
  readonly userId: number;
  /** The opaque refresh token: given to the client once, never stored. */
  readonly refreshToken: string;
}

export type Rotation =
  | ({ readonly outcome: 'rotated' } & IssuedSession)
  /** Unknown, expired, or of an ended session. */
  | { readonly outcome: 'invalid' }
  /** Already rotated: the session has now been revoked. */
  | { readonly outcome: 'reused' };

@Injectable()
export class SessionsService {
  private readonly ttlMs: number;

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly sequelize: Sequelize,
    config: ConfigService<Environment, true>,
    private readonly recentWriters: RecentWriters,
  ) {
    this.ttlMs = config.get('REFRESH_TOKEN_TTL_SECONDS', { infer: true }) * 1000;
  }

  /** A new session for a user who has just proved who they are. */
  async start(userId: number): Promise<IssuedSession> {
    const session = await inTransaction(this.sequelize, async () => {
      const expiresAt = new Date(Date.now() + this.ttlMs);
      const sessionId = randomUUID();
      await this.sessions.create(sessionId, userId, expiresAt);
      const refreshToken = await this.issueToken(sessionId, expiresAt);
      return { sessionId, userId, refreshToken };
    });
    // The caller acts as this user from now on, with reads of its own writes (its account, if just made) on the primary.
    await this.recentWriters.wrote(userId);
    return session;
  }

  /**
   * Exchanges a refresh token for a new one. Must not run inside a transaction that a failure rolls back: the
   * revocation that answers a reuse has to stay (the refresh route opts out of the request transaction).
   */
  async rotate(presented: string): Promise<Rotation> {
    return inTransaction(this.sequelize, async () => {
      const hash = tokenHash(presented);
      const token = await this.refreshTokens.findForRotation(hash);
      const session = token?.session;
      if (!token || !session || session.revokedAt !== null) return { outcome: 'invalid' } as const;
      if (token.replacedAt !== null) {
        await this.sessions.revoke(session.id);
        return { outcome: 'reused' } as const;
      }
      const now = new Date();
      if (token.expiresAt <= now || session.expiresAt <= now) return { outcome: 'invalid' } as const;

      const expiresAt = new Date(now.getTime() + this.ttlMs);
      await this.refreshTokens.markReplaced(hash, now);
      await this.sessions.extend(session.id, expiresAt);
      const refreshToken = await this.issueToken(session.id, expiresAt);
      return { outcome: 'rotated', sessionId: session.id, userId: session.userId, refreshToken } as const;
    });
  }

  /** Whether an access token of this session and user may still be used. */
  isLive(sessionId: string, userId: number): Promise<boolean> {
    return this.sessions.isLive(sessionId, userId);
  }

  /** Ends one session: its refresh tokens and access tokens are refused from now on. */
  revoke(sessionId: string): Promise<void> {
    return this.sessions.revoke(sessionId);
  }

  /** Ends every session of a user (password or role change, deletion). */
  revokeAllForUser(userId: number): Promise<void> {
    return this.sessions.revokeAllForUser(userId);
  }

  private async issueToken(sessionId: string, expiresAt: Date): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.refreshTokens.create(tokenHash(token), sessionId, expiresAt);
    return token;
  }
}

function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
