import { Module } from '@nestjs/common';
import { SequelizeModule } from '@nestjs/sequelize';
import { User } from './models/user.model';
import { UsersRepository } from './users.repository';

/**
 * The users table alone, for the modules that build on users (a post's author is checked and locked through it).
 * Apart from UsersModule because UsersModule embeds posts: posts → users-data, users → posts, and no cycle.
 */
@Module({
  imports: [SequelizeModule.forFeature([User])],
  providers: [UsersRepository],
  exports: [UsersRepository],
})
export class UsersDataModule {}
