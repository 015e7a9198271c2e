import { Module } from '@nestjs/common';
import { SequelizeModule } from '@nestjs/sequelize';
import { PostsModule } from '../posts/posts.module';
import { User } from './models/user.model';
import { UsersBatchController } from './users-batch.controller';
import { UsersBatchService } from './users-batch.service';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

// Users depend on posts (cascades, embedded posts), never the other way round.
@Module({
  imports: [SequelizeModule.forFeature([User]), PostsModule],
  controllers: [UsersController, UsersBatchController],
  providers: [UsersService, UsersBatchService],
  exports: [UsersService],
})
export class UsersModule {}
