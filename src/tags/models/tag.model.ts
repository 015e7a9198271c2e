/**
 * tags table (see migrations/20261203000003-create-tags.js). Generated, then made unique: a name is stored trimmed,
 * composed and lower-cased here, on every write path, so names are unique case-insensitively among live tags.
 */
import type { Optional, UpdateOptions } from 'sequelize';
import { BeforeBulkCreate, BeforeBulkUpdate, BeforeValidate, Column, CreatedAt, DataType, DeletedAt, Model, Table, UpdatedAt } from 'sequelize-typescript';
import { Audited } from '../../audit/audit-trail';
import { lengthInCharacters } from '../../common/validation/text';

export const MAX_TAG_LENGTH = 50;

export interface TagAttributes {
  id: number;
  name: string;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

export type TagCreationAttributes = Optional<TagAttributes, 'id' | 'createdAt' | 'updatedAt' | 'deletedAt'>;

/** The columns the API exposes (deletedAt stays internal). */
export const TAG_PUBLIC_ATTRIBUTES = ['id', 'name', 'createdAt', 'updatedAt'] as const;

/** The stored form of a tag name: what makes "NestJS" and " nestjs " the same tag. */
export function normaliseTagName(name: string): string {
  return name.normalize('NFC').trim().toLowerCase();
}

@Audited()
@Table({
  tableName: 'tags',
  paranoid: true,
  whereMergeStrategy: 'and',
  indexes: [
    { name: 'tags_created_at_id_live', fields: ['createdAt', 'id'], where: { deletedAt: null } },
    { name: 'tags_name_live_unique', unique: true, fields: ['name'], where: { deletedAt: null } },
  ],
})
export class Tag extends Model<TagAttributes, TagCreationAttributes> {
  @Column({ type: DataType.INTEGER, primaryKey: true, autoIncrement: true })
  declare id: number;

  @Column({ type: DataType.STRING(MAX_TAG_LENGTH), allowNull: false, validate: { charLength: lengthInCharacters(1, MAX_TAG_LENGTH) } })
  declare name: string;

  @CreatedAt
  declare createdAt: Date;

  @UpdatedAt
  declare updatedAt: Date;

  @DeletedAt
  declare deletedAt: Date | null;

  @BeforeValidate
  static normaliseName(tag: Tag): void {
    if (typeof tag.name === 'string') tag.name = normaliseTagName(tag.name);
  }

  @BeforeBulkCreate
  static normaliseNames(tags: Tag[]): void {
    for (const tag of tags) Tag.normaliseName(tag);
  }

  @BeforeBulkUpdate
  static normaliseUpdatedName(options: UpdateOptions<TagAttributes> & { attributes?: Partial<TagAttributes> }): void {
    if (typeof options.attributes?.name === 'string') options.attributes.name = normaliseTagName(options.attributes.name);
  }
}
