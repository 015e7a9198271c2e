import { Module } from '@nestjs/common';
import { PostsModule } from '../posts/posts.module';
import { SessionsModule } from '../sessions/sessions.module';
import { PasswordHasher } from './password-hasher';
import { UsersBatchController } from './users-batch.controller';
import { UsersBatchService } from './users-batch.service';
import { UsersDataModule } from './users-data.module';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

// Users embed posts (include=posts, a user's posts) and end sessions (password, role or account changes); the
// posts follow their author's deletion by their own declaration (@FollowsParent on the Post model).
@Module({
  imports: [UsersDataModule, PostsModule, SessionsModule],
  controllers: [UsersController, UsersBatchController],
  providers: [UsersService, UsersBatchService, PasswordHasher],
  exports: [UsersService],
})
export class UsersModule {}
