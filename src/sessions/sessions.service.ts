/**
 * Login sessions and their refresh tokens. A session lives until it expires or is revoked (logout, password or role
 * change, deletion of its user, or reuse of one of its rotated refresh tokens); the auth guard accepts an access
 * token only while its session lives.
 *
 * Refresh tokens are 256 random bits, handed out once and stored only as their SHA-256 (a fast hash is right for a
 * high-entropy secret: there is nothing to guess). Each refresh replaces the token; a replaced token presented again
 * means it was copied, so the whole session is revoked (rotation with reuse detection).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/sequelize';
import { Op, QueryTypes } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { inTransaction } from '../common/database/transaction-context';
import type { Environment } from '../config/environment';
import { RefreshToken } from './models/refresh-token.model';
import { Session } from './models/session.model';

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

// The guard's check on every authenticated request: one primary-key probe.
export const LIVE_SESSION_SQL = 'SELECT 1 FROM sessions WHERE id = $1 AND "userId" = $2 AND "revokedAt" IS NULL AND "expiresAt" > now()';

@Injectable()
export class SessionsService {
  private readonly ttlMs: number;

  constructor(
    @InjectModel(Session) private readonly sessions: typeof Session,
    @InjectModel(RefreshToken) private readonly refreshTokens: typeof RefreshToken,
    private readonly sequelize: Sequelize,
    config: ConfigService<Environment, true>,
  ) {
    this.ttlMs = config.get('REFRESH_TOKEN_TTL_SECONDS', { infer: true }) * 1000;
  }

  /** A new session for a user who has just proved who they are. */
  async start(userId: number): Promise<IssuedSession> {
    return inTransaction(this.sequelize, async () => {
      const expiresAt = new Date(Date.now() + this.ttlMs);
      const session = await this.sessions.create({ id: randomUUID(), userId, expiresAt });
      const refreshToken = await this.issueToken(session.id, expiresAt);
      return { sessionId: session.id, userId, refreshToken };
    });
  }

  /**
   * Exchanges a refresh token for a new one. Must not run inside a transaction that a failure rolls back: the
   * revocation that answers a reuse has to stay (the refresh route opts out of the request transaction).
   */
  async rotate(presented: string): Promise<Rotation> {
    return inTransaction(this.sequelize, async (transaction) => {
      // Locked: two refreshes with the same token are serialised, and the second one is a reuse.
      const token = await this.refreshTokens.findByPk(tokenHash(presented), {
        include: [{ model: this.sessions, as: 'session', required: true }],
        lock: { level: transaction.LOCK.UPDATE, of: this.refreshTokens },
      });
      const session = token?.session;
      if (!token || !session || session.revokedAt !== null) return { outcome: 'invalid' } as const;
      if (token.replacedAt !== null) {
        await this.revoke(session.id);
        return { outcome: 'reused' } as const;
      }
      const now = new Date();
      if (token.expiresAt <= now || session.expiresAt <= now) return { outcome: 'invalid' } as const;

      const expiresAt = new Date(now.getTime() + this.ttlMs);
      await token.update({ replacedAt: now });
      await session.update({ expiresAt });
      const refreshToken = await this.issueToken(session.id, expiresAt);
      return { outcome: 'rotated', sessionId: session.id, userId: session.userId, refreshToken } as const;
    });
  }

  /** Whether an access token of this session and user may still be used. */
  async isLive(sessionId: string, userId: number): Promise<boolean> {
    const rows = await this.sequelize.query(LIVE_SESSION_SQL, { bind: [sessionId, userId], type: QueryTypes.SELECT });
    return rows.length > 0;
  }

  /** Ends one session: its refresh tokens and access tokens are refused from now on. */
  async revoke(sessionId: string): Promise<void> {
    await this.sessions.update({ revokedAt: new Date() }, { where: { id: sessionId, revokedAt: { [Op.is]: null } } });
  }

  /** Ends every session of a user (password or role change, deletion). */
  async revokeAllForUser(userId: number): Promise<void> {
    await this.sessions.update({ revokedAt: new Date() }, { where: { userId, revokedAt: { [Op.is]: null } } });
  }

  private async issueToken(sessionId: string, expiresAt: Date): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.refreshTokens.create({ tokenHash: tokenHash(token), sessionId, expiresAt });
    return token;
  }
}

function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
