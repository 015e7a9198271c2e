import { Module } from '@nestjs/common';
import { SequelizeModule } from '@nestjs/sequelize';
import { TagsDataModule } from '../tags/tags-data.module';
import { PostTag } from './models/post-tag.model';
import { Post } from './models/post.model';
import { PostTagsRepository } from './post-tags.repository';
import { PostsController } from './posts.controller';
import { PostsRepository } from './posts.repository';
import { PostsService } from './posts.service';

@Module({
  imports: [SequelizeModule.forFeature([Post, PostTag]), TagsDataModule],
  controllers: [PostsController],
  providers: [PostsService, PostsRepository, PostTagsRepository],
  exports: [PostsService, PostsRepository, PostTagsRepository],
})
export class PostsModule {}
