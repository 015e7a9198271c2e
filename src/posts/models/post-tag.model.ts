/**
 * post_tags table (see migrations/20261203000003-create-tags.js): which tags a post has. Links are created and
 * deleted (PUT /posts/:id/tags), never soft-deleted, and every change is audited like any other row.
 */
import type { NonAttribute } from 'sequelize';
import { BelongsTo, Column, CreatedAt, DataType, ForeignKey, Model, Table } from 'sequelize-typescript';
import { Audited } from '../../audit/audit-trail';
import { Tag } from '../../tags/models/tag.model';
import { Post } from './post.model';

export interface PostTagAttributes {
  postId: number;
  tagId: number;
  createdAt: Date;
}

@Audited()
@Table({
  tableName: 'post_tags',
  updatedAt: false,
  // Mirrors the migrations (test/schema.e2e-spec.ts fails when they drift apart).
  indexes: [{ name: 'post_tags_tag_id_post_id', fields: ['tagId', 'postId'] }],
})
export class PostTag extends Model<PostTagAttributes, Pick<PostTagAttributes, 'postId' | 'tagId'>> {
  @ForeignKey(() => Post)
  @Column({ type: DataType.INTEGER, primaryKey: true, allowNull: false })
  declare postId: number;

  @ForeignKey(() => Tag)
  @Column({ type: DataType.INTEGER, primaryKey: true, allowNull: false })
  declare tagId: number;

  @CreatedAt
  declare createdAt: Date;

  @BelongsTo(() => Post, { foreignKey: 'postId', onDelete: 'CASCADE' })
  declare post?: NonAttribute<Post>;

  @BelongsTo(() => Tag, { foreignKey: 'tagId', onDelete: 'CASCADE' })
  declare tag?: NonAttribute<Tag>;
}
