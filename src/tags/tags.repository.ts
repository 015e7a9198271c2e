/**
 * The `tags` table: the only code that reads or writes it. Writes go through the model, so its hooks run (the
 * audit trail, the name's normalisation). Exported by TagsDataModule, for the posts module's tag links.
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import { Transaction, UniqueConstraintError } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { Repository } from '../common/database/repository';
import type { FoundPage, PageWindow } from '../common/pagination/paginator';
import { inTransaction } from '../common/database/transaction-context';
import type { TagRow } from './dto/tag-response.dto';
import { normaliseTagName, Tag, TAG_PUBLIC_ATTRIBUTES, type TagAttributes, type TagCreationAttributes } from './models/tag.model';

export type TagChanges = Partial<Pick<TagAttributes, 'name'>>;

@Injectable()
export class TagsRepository extends Repository {
  constructor(
    @InjectModel(Tag) private readonly tags: typeof Tag,
    sequelize: Sequelize,
  ) {
    super(sequelize);
  }

  async create(values: TagCreationAttributes): Promise<TagRow> {
    await this.ready();
    return publicRow(await this.tags.create(values));
  }

  async findLive(id: number): Promise<TagRow | null> {
    await this.ready();
    return (await this.tags.findByPk(id, { attributes: [...TAG_PUBLIC_ATTRIBUTES], raw: true })) as TagRow | null;
  }

  async page(filter: Record<string, never>, window: PageWindow): Promise<FoundPage<TagRow>> {
    return this.findPage(this.tags, { where: { ...filter }, attributes: [...TAG_PUBLIC_ATTRIBUTES], raw: true }, window);
  }

  /** Lock, decide, write (Repository.updateLocked): `decide` sees the live tag and returns what to change. */
  async update(id: number, decide: (tag: TagRow) => TagChanges): Promise<TagRow | null> {
    const tag = await this.updateLocked(this.tags, id, TAG_PUBLIC_ATTRIBUTES, (row) => decide(publicRow(row)));
    return tag && publicRow(tag);
  }

  /** Lock, delete (Repository.deleteLocked); the policy (admins only) has decided before. */
  async remove(id: number): Promise<boolean> {
    return this.deleteLocked(this.tags, id, ['id'], () => undefined);
  }

  async exists(id: number): Promise<boolean> {
    return (await this.findLive(id)) !== null;
  }

  async findLiveByName(name: string): Promise<TagRow | null> {
    await this.ready();
    return (await this.tags.findOne({ where: { name: normaliseTagName(name) }, attributes: [...TAG_PUBLIC_ATTRIBUTES], raw: true })) as TagRow | null;
  }

  /**
   * The live tags of these names (normalised, distinct), creating the missing ones with one INSERT. A concurrent
   * request may create one of them first: the INSERT runs in a savepoint, and on that unique violation the names are
   * looked up again, once.
   */
  async findOrCreate(names: readonly string[]): Promise<TagRow[]> {
    const wanted = [...new Set(names.map(normaliseTagName))];
    if (wanted.length === 0) return [];
    await this.ready();
    for (let attempt = 0; ; attempt++) {
      // Share-locked, in id order, until the transaction ends: a tag being deleted is waited for and then not found
      // (a new one is made), and a deletion that starts later waits for this transaction.
      const found = (await this.tags.findAll({
        where: { name: wanted },
        attributes: [...TAG_PUBLIC_ATTRIBUTES],
        order: [['id', 'ASC']],
        lock: Transaction.LOCK.SHARE,
        raw: true,
      })) as unknown as TagRow[];
      // Sorted: concurrent requests creating the same new names insert them in one order and cannot deadlock.
      const missing = wanted.filter((name) => !found.some((tag) => tag.name === name)).sort();
      if (missing.length === 0) return found;
      try {
        const created = await inTransaction(this.sequelize, () => this.tags.bulkCreate(missing.map((name) => ({ name })), { returning: [...TAG_PUBLIC_ATTRIBUTES] }));
        return [...found, ...created.map(publicRow)];
      } catch (error) {
        if (!(error instanceof UniqueConstraintError) || attempt > 0) throw error;
      }
    }
  }
}

function publicRow(row: Tag): TagRow {
  const { id, name, createdAt, updatedAt } = row.get();
  return { id, name, createdAt, updatedAt };
}
