import { Module } from '@nestjs/common';
import { SequelizeModule } from '@nestjs/sequelize';
import { Tag } from './models/tag.model';
import { TagsRepository } from './tags.repository';

/**
 * The tags table alone, for the posts module (a post's tags are found or created by name through it). Apart from
 * TagsModule because TagsModule counts posts per tag through the posts module: posts → tags-data, tags → posts.
 */
@Module({
  imports: [SequelizeModule.forFeature([Tag])],
  providers: [TagsRepository],
  exports: [TagsRepository],
})
export class TagsDataModule {}
