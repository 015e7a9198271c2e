import { Module } from '@nestjs/common';
import { SequelizeModule } from '@nestjs/sequelize';
import { User } from './models/user.model';
import { UsersRepository } from './users.repository';

/**
 * The users table alone, for the modules that build on users (a generated module whose rows belong to a user asks it
 * whether the user exists). Apart from UsersModule because UsersModule embeds posts, so that a module users depend on
 * can reach the users table without a cycle.
 */
@Module({
  imports: [SequelizeModule.forFeature([User])],
  providers: [UsersRepository],
  exports: [UsersRepository],
})
export class UsersDataModule {}
