/**
 * The `sessions` table: the only code that reads or writes it. Queries join the request's transaction by
 * themselves (common/database/transaction-context.ts); the rules live in SessionsService.
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import { Op } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { Repository } from '../common/database/repository';
import { Session } from './models/session.model';

// The guard's check on every authenticated request: one primary-key probe.
export const LIVE_SESSION_SQL = 'SELECT 1 FROM sessions WHERE id = $1 AND "userId" = $2 AND "revokedAt" IS NULL AND "expiresAt" > now()';

@Injectable()
export class SessionsRepository extends Repository {
  constructor(
    @InjectModel(Session) private readonly sessions: typeof Session,
    sequelize: Sequelize,
  ) {
    super(sequelize);
  }

  async create(id: string, userId: number, expiresAt: Date): Promise<void> {
    await this.ready();
    await this.sessions.create({ id, userId, expiresAt });
  }

  async isLive(id: string, userId: number): Promise<boolean> {
    // From the primary: behind a replica, a session ended a moment ago would still pass.
    return (await this.selectOne(LIVE_SESSION_SQL, [id, userId], { fromPrimary: true })) !== null;
  }

  async extend(id: string, expiresAt: Date): Promise<void> {
    await this.ready();
    await this.sessions.update({ expiresAt }, { where: { id } });
  }

  async revoke(id: string): Promise<void> {
    await this.ready();
    await this.sessions.update({ revokedAt: new Date() }, { where: { id, revokedAt: { [Op.is]: null } } });
  }

  async revokeAllForUser(userId: number): Promise<void> {
    await this.ready();
    await this.sessions.update({ revokedAt: new Date() }, { where: { userId, revokedAt: { [Op.is]: null } } });
  }
}
