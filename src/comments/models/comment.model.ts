/**
 * comments table (see migrations/20261203000002-create-comments.js). Generated; add your columns here and in a migration
 * (test/schema.e2e-spec.ts fails when they drift apart).
 */
import type { NonAttribute, Optional } from 'sequelize';
import { BelongsTo, Column, CreatedAt, DataType, DeletedAt, ForeignKey, Model, Table, UpdatedAt } from 'sequelize-typescript';
import { Audited } from '../../audit/audit-trail';
import { FollowsParent } from '../../common/database/cascades';
import { Post } from '../../posts/models/post.model';
import { User } from '../../users/models/user.model';

export interface CommentAttributes {
  id: number;
  body: string;
  postId: number;
  authorId: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
  /** Optimistic locking: incremented by every write through the model; the ETag is derived from it. */
  version: number;
}

export type CommentCreationAttributes = Optional<CommentAttributes, 'id' | 'createdAt' | 'updatedAt' | 'deletedAt' | 'version'>;

/** The columns the API exposes (deletedAt stays internal). */
export const COMMENT_PUBLIC_ATTRIBUTES = ['id', 'body', 'postId', 'authorId', 'createdAt', 'updatedAt', 'version'] as const;

// Deleted and restored with its post.
@FollowsParent(() => Post, 'postId')
// Deleted and restored with its author.
@FollowsParent(() => User, 'authorId')
@Audited()
@Table({
  tableName: 'comments',
  paranoid: true,
  version: true,
  whereMergeStrategy: 'and',
  indexes: [
    { name: 'comments_post_id_created_at_id_live', fields: ['postId', 'createdAt', 'id'], where: { deletedAt: null } },
    { name: 'comments_post_id_deleted_at', fields: ['postId', 'deletedAt'] },
    { name: 'comments_author_id_deleted_at', fields: ['authorId', 'deletedAt'] },
  ],
})
export class Comment extends Model<CommentAttributes, CommentCreationAttributes> {
  @Column({ type: DataType.INTEGER, primaryKey: true, autoIncrement: true })
  declare id: number;

  @Column({ type: DataType.TEXT, allowNull: false, validate: { notEmpty: true } })
  declare body: string;

  @ForeignKey(() => Post)
  @Column({ type: DataType.INTEGER, allowNull: false })
  declare postId: number;

  @BelongsTo(() => Post, { as: 'post', foreignKey: 'postId' })
  declare post?: NonAttribute<Post>;

  @ForeignKey(() => User)
  @Column({ type: DataType.INTEGER, allowNull: false })
  declare authorId: number;

  @BelongsTo(() => User, { as: 'author', foreignKey: 'authorId' })
  declare author?: NonAttribute<User>;

  @CreatedAt
  declare createdAt: Date;

  @UpdatedAt
  declare updatedAt: Date;

  @DeletedAt
  declare deletedAt: Date | null;

  declare version: number;
}
