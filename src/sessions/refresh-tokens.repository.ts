/**
 * The `refresh_tokens` table: the only code that reads or writes it. Tokens are stored as their SHA-256 only.
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import { Transaction } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { Repository } from '../common/database/repository';
import { RefreshToken } from './models/refresh-token.model';
import { Session } from './models/session.model';

/** A stored token with the session it belongs to, as rotation decides on it. */
export interface TokenWithSession {
  readonly expiresAt: Date;
  readonly replacedAt: Date | null;
  readonly session: { readonly id: string; readonly userId: number; readonly expiresAt: Date; readonly revokedAt: Date | null };
}

@Injectable()
export class RefreshTokensRepository extends Repository {
  constructor(
    @InjectModel(RefreshToken) private readonly refreshTokens: typeof RefreshToken,
    sequelize: Sequelize,
  ) {
    super(sequelize);
  }

  async create(tokenHash: string, sessionId: string, expiresAt: Date): Promise<void> {
    await this.ready();
    await this.refreshTokens.create({ tokenHash, sessionId, expiresAt });
  }

  /**
   * The token and its session, the token's row locked until the transaction ends (only the token's: the session
   * is read through the association), so two refreshes with the same token are serialised. Must run in a
   * transaction.
   */
  async findForRotation(tokenHash: string): Promise<TokenWithSession | null> {
    await this.ready();
    const token = await this.refreshTokens.findByPk(tokenHash, {
      include: [{ model: Session, as: 'session', required: true }],
      lock: { level: Transaction.LOCK.UPDATE, of: this.refreshTokens },
    });
    if (!token?.session) return null;
    const { session } = token;
    return {
      expiresAt: token.expiresAt,
      replacedAt: token.replacedAt,
      session: { id: session.id, userId: session.userId, expiresAt: session.expiresAt, revokedAt: session.revokedAt },
    };
  }

  async markReplaced(tokenHash: string, replacedAt: Date): Promise<void> {
    await this.ready();
    await this.refreshTokens.update({ replacedAt }, { where: { tokenHash } });
  }
}
