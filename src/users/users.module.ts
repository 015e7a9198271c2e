import { Module } from '@nestjs/common';
import { SequelizeModule } from '@nestjs/sequelize';
import { PostsModule } from '../posts/posts.module';
import { SessionsModule } from '../sessions/sessions.module';
import { User } from './models/user.model';
import { PasswordHasher } from './password-hasher';
import { UsersBatchController } from './users-batch.controller';
import { UsersBatchService } from './users-batch.service';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

// Users depend on posts (cascades, embedded posts) and sessions (ended on password, role or account changes),
// never the other way round.
@Module({
  imports: [SequelizeModule.forFeature([User]), PostsModule, SessionsModule],
  controllers: [UsersController, UsersBatchController],
  providers: [UsersService, UsersBatchService, PasswordHasher],
  exports: [UsersService],
})
export class UsersModule {}
