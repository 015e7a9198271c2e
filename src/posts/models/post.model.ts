/**
 * posts table (see migrations/20261124000002-create-posts.js). The scopes are
 * the filters of the post list endpoints; services combine them and add order/limit.
 */
import { cast, col, fn, Op, where, type NonAttribute, type Optional } from 'sequelize';
import {
  BelongsTo,
  Column,
  CreatedAt,
  DataType,
  DeletedAt,
  ForeignKey,
  Model,
  Scopes,
  Table,
  UpdatedAt,
} from 'sequelize-typescript';
import { Audited } from '../../audit/audit-trail';
import { FollowsParent } from '../../common/database/cascades';
import { lengthInCharacters } from '../../common/validation/text';
import { User, USER_PUBLIC_ATTRIBUTES } from '../../users/models/user.model';
import { containsPattern, indexedPiece } from '../search-pattern';

export interface PostAttributes {
  id: number;
  title: string;
  body: string;
  published: boolean;
  authorId: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
  /** Optimistic locking: incremented by every write through the model; the ETag is derived from it. */
  version: number;
}

export type PostCreationAttributes = Optional<PostAttributes, 'id' | 'published' | 'createdAt' | 'updatedAt' | 'deletedAt' | 'version'>;

export const POST_PUBLIC_ATTRIBUTES = ['id', 'title', 'body', 'published', 'authorId', 'createdAt', 'updatedAt', 'version'] as const;

// Deleted and restored with its author; every write recorded in the audit trail.
@FollowsParent(() => User, 'authorId')
@Audited()
@Scopes(() => ({
  published: { where: { published: true } },
  drafts: { where: { published: false } },
  byAuthor: (authorId: number) => ({ where: { authorId } }),
  // Backslash is Postgres' default LIKE escape character, which containsPattern relies on.
  matching: (text: string) => {
    const pattern = containsPattern(indexedPiece(text));
    const inIndex = { [Op.or]: [{ title: { [Op.iLike]: pattern } }, { body: { [Op.iLike]: pattern } }] };
    // The whole term, checked on the rows the indexes found (migrations/20261202000001-bounded-post-reads.js says why
    // it is a function of its own): strpos over lower() is what ILIKE '%…%' means. The term goes in through cast():
    // Sequelize 6 doubles every `$` of a plain string argument of fn() (it expects bind parameters to undo it).
    const whole = where(fn('posts_text_contains', col('title'), col('body'), cast(text, 'text')), Op.eq, true);
    return { where: { [Op.and]: [inIndex, whole] } };
  },
  withAuthor: { include: [{ association: 'author', attributes: [...USER_PUBLIC_ATTRIBUTES] }] },
}))
@Table({
  tableName: 'posts',
  paranoid: true,
  version: true,
  whereMergeStrategy: 'and',
  // Mirrors the migrations (test/schema.e2e-spec.ts fails when they drift apart).
  indexes: [
    { name: 'posts_author_id_deleted_at', fields: ['authorId', 'deletedAt'] },
    { name: 'posts_created_at_id_live', fields: ['createdAt', 'id'], where: { deletedAt: null } },
    { name: 'posts_published_created_at_id_live', fields: ['published', 'createdAt', 'id'], where: { deletedAt: null } },
    { name: 'posts_author_id_created_at_id_live', fields: ['authorId', 'createdAt', 'id'], where: { deletedAt: null } },
    // pg_trgm: `q` searches (ILIKE on title or body) read these instead of every post.
    { name: 'posts_title_trgm_live', using: 'gin', fields: [{ name: 'title', operator: 'gin_trgm_ops' }], where: { deletedAt: null } },
    { name: 'posts_body_trgm_live', using: 'gin', fields: [{ name: 'body', operator: 'gin_trgm_ops' }], where: { deletedAt: null } },
  ],
})
export class Post extends Model<PostAttributes, PostCreationAttributes> {
  @Column({ type: DataType.INTEGER, primaryKey: true, autoIncrement: true })
  declare id: number;

  @Column({ type: DataType.STRING(255), allowNull: false, validate: { charLength: lengthInCharacters(1, 255) } })
  declare title: string;

  @Column({ type: DataType.TEXT, allowNull: false, validate: { notEmpty: true } })
  declare body: string;

  @Column({ type: DataType.BOOLEAN, allowNull: false, defaultValue: false })
  declare published: boolean;

  @ForeignKey(() => User)
  @Column({ type: DataType.INTEGER, allowNull: false })
  declare authorId: number;

  @CreatedAt
  declare createdAt: Date;

  @UpdatedAt
  declare updatedAt: Date;

  @DeletedAt
  declare deletedAt: Date | null;

  declare version: number;

  @BelongsTo(() => User, { as: 'author', foreignKey: 'authorId' })
  // NonAttribute: not a column (and no decorator metadata naming User).
  declare author?: NonAttribute<User>;
}
