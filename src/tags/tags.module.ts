import { Module } from '@nestjs/common';
import { PostsModule } from '../posts/posts.module';
import { TagsController } from './tags.controller';
import { TagsDataModule } from './tags-data.module';
import { TagsService } from './tags.service';

@Module({
  imports: [TagsDataModule, PostsModule],
  controllers: [TagsController],
  providers: [TagsService],
  // The repository, for the modules whose rows belong to a tag.
  exports: [TagsDataModule],
})
export class TagsModule {}
