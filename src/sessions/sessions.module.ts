import { Module } from '@nestjs/common';
import { SequelizeModule } from '@nestjs/sequelize';
import { RefreshToken } from './models/refresh-token.model';
import { Session } from './models/session.model';
import { SessionsService } from './sessions.service';

// Depends on nothing else of the app: users and auth both use it.
@Module({
  imports: [SequelizeModule.forFeature([Session, RefreshToken])],
  providers: [SessionsService],
  exports: [SessionsService],
})
export class SessionsModule {}
