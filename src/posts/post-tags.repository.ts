/**
 * The `post_tags` table: the only code that reads or writes it, including the reports that count posts per tag.
 * Links are created and deleted through the model, so each change is audited (one INSERT per statement).
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/sequelize';
import { literal, Op } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { Repository } from '../common/database/repository';
import { PostTag } from './models/post-tag.model';

// Live published posts only: a draft is nobody else's business, not even as a count (as in the top-authors report).
const LIVE_POST_COUNTS_SQL = `
  SELECT pt."tagId", count(*)::int AS "postCount"
  FROM post_tags pt JOIN posts p ON p.id = pt."postId" AND p."deletedAt" IS NULL AND p.published
  WHERE pt."tagId" = ANY($1::int[])
  GROUP BY pt."tagId"`;

@Injectable()
export class PostTagsRepository extends Repository {
  constructor(
    @InjectModel(PostTag) private readonly links: typeof PostTag,
    sequelize: Sequelize,
  ) {
    super(sequelize);
  }

  /** Makes `tagIds` the post's tags: links no longer wanted are deleted, new ones created; two statements at most. */
  /** The set of links has no version: a client guarding its replacement can only ask that the post exists (If-Match: *). */
  assertReplaceable(postId: number): void {
    this.assertNoEntityTag(`Tags of post ${postId}`);
  }

  /** After assertReplaceable: the post's links become exactly `tagIds`. */
  async replace(postId: number, tagIds: readonly number[]): Promise<void> {
    await this.ready();
    const current = (await this.links.findAll({ where: { postId }, attributes: ['tagId'], raw: true })).map((link) => link.tagId);
    const unwanted = current.filter((id) => !tagIds.includes(id));
    const added = tagIds.filter((id) => !current.includes(id));
    if (unwanted.length > 0) await this.links.destroy({ where: { postId, tagId: { [Op.in]: unwanted } } });
    if (added.length > 0) await this.links.bulkCreate(added.map((tagId) => ({ postId, tagId })));
  }

  /** How many live published posts carry each tag; a tag without any is absent from the map. */
  async livePostCounts(tagIds: readonly number[]): Promise<Map<number, number>> {
    if (tagIds.length === 0) return new Map();
    const rows = await this.select<{ tagId: number; postCount: number }>(LIVE_POST_COUNTS_SQL, [tagIds]);
    return new Map(rows.map((row) => [row.tagId, row.postCount]));
  }

  /** The ids of the posts carrying a tag, as a subquery for the posts list's filter (this table stays described here). */
  postsWithTag(tagId: number): ReturnType<typeof literal> {
    return literal(`(SELECT "postId" FROM post_tags WHERE "tagId" = ${this.sequelize.escape(tagId)})`);
  }
}
