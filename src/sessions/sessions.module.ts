import { Module } from '@nestjs/common';
import { SequelizeModule } from '@nestjs/sequelize';
import { RefreshToken } from './models/refresh-token.model';
import { Session } from './models/session.model';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

// Depends on nothing else of the app: users and auth both use it.
@Module({
  imports: [SequelizeModule.forFeature([Session, RefreshToken])],
  providers: [SessionsRepository, RefreshTokensRepository, SessionsService],
  exports: [SessionsService],
})
export class SessionsModule {}
