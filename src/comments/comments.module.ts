import { Module } from '@nestjs/common';
import { SequelizeModule } from '@nestjs/sequelize';
import { PostsModule } from '../posts/posts.module';
import { Comment } from './models/comment.model';
import { CommentsController } from './comments.controller';
import { CommentsRepository } from './comments.repository';
import { CommentsService } from './comments.service';

@Module({
  imports: [SequelizeModule.forFeature([Comment]), PostsModule],
  controllers: [CommentsController],
  providers: [CommentsService, CommentsRepository],
  // The repository, for the modules whose rows belong to comments (npm run generate -- module … --parent comments).
  exports: [CommentsRepository],
})
export class CommentsModule {}
