/**
 * The `comments` table: the only code that reads or writes it. Writes go through the model, so its hooks run (the
 * audit trail, the cascades declared on it and on its children).
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import { Sequelize } from 'sequelize-typescript';
import { Repository } from '../common/database/repository';
import type { FoundPage, PageWindow } from '../common/pagination/paginator';
import type { CommentRow } from './dto/comment-response.dto';
import { Comment, COMMENT_PUBLIC_ATTRIBUTES, type CommentAttributes, type CommentCreationAttributes } from './models/comment.model';

export type CommentChanges = Partial<Pick<CommentAttributes, 'body'>>;
/** What the access policy decides a write on. */
export type CommentFacts = Pick<CommentAttributes, 'id' | 'authorId' | 'postId'>;

@Injectable()
export class CommentsRepository extends Repository {
  constructor(
    @InjectModel(Comment) private readonly comments: typeof Comment,
    sequelize: Sequelize,
  ) {
    super(sequelize);
  }

  /** The author must be a live user: the database checks it in the INSERT (common/database/dead-reference.ts). */
  async create(values: CommentCreationAttributes): Promise<CommentRow> {
    await this.ready();
    return publicRow(await this.comments.create(values));
  }

  async findLive(id: number): Promise<CommentRow | null> {
    await this.ready();
    return (await this.comments.findByPk(id, { attributes: [...COMMENT_PUBLIC_ATTRIBUTES], raw: true })) as CommentRow | null;
  }

  async page(filter: { postId: number }, window: PageWindow): Promise<FoundPage<CommentRow>> {
    return this.findPage(this.comments, { where: { ...filter }, attributes: [...COMMENT_PUBLIC_ATTRIBUTES], raw: true }, window);
  }

  /** Lock, decide, write (Repository.updateLocked): `decide` sees the live comment and returns what to change. */
  async update(id: number, decide: (comment: CommentRow) => Promise<CommentChanges>): Promise<CommentRow | null> {
    const comment = await this.updateLocked(this.comments, id, COMMENT_PUBLIC_ATTRIBUTES, (row) => decide(publicRow(row)));
    return comment && publicRow(comment);
  }

  /** Lock, decide, delete (Repository.deleteLocked): `decide` sees the facts a write is decided on. */
  async remove(id: number, decide: (comment: CommentFacts) => Promise<void>): Promise<boolean> {
    return this.deleteLocked(this.comments, id, ['id', 'authorId', 'postId'], (row) => decide(row.get()));
  }

  async exists(id: number): Promise<boolean> {
    return (await this.findLive(id)) !== null;
  }
}

function publicRow(row: Comment): CommentRow {
  const { id, body, postId, authorId, createdAt, updatedAt, version } = row.get();
  return { id, body, postId, authorId, createdAt, updatedAt, version };
}
