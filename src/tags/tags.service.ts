/**
 * Tags: generated (`npm run generate -- module tags`), then given unique lower-case names and post counts. Data goes
 * through TagsRepository; the counts through PostTagsRepository, exported by the posts module. A post's tags are
 * set by PUT /posts/:id/tags (PostsService).
 */
import { Injectable, NotFoundException } from '@nestjs/common';
import type { Actor } from '../common/access/actor';
import { enforce } from '../common/access/access';
import type { Page } from '../common/pagination/page.dto';
import { Paginator } from '../common/pagination/paginator';
import { toOrder } from '../common/pagination/sort';
import { PostTagsRepository } from '../posts/post-tags.repository';
import type { CreateTagDto } from './dto/create-tag.dto';
import { TAG_SORT_FIELDS, type ListTagsQueryDto } from './dto/tag-query.dto';
import { toTagResponse, type TagResponseDto, type TagRow } from './dto/tag-response.dto';
import type { UpdateTagDto } from './dto/update-tag.dto';
import { TagsPolicy } from './tags.policy';
import { TagsRepository } from './tags.repository';

@Injectable()
export class TagsService {
  constructor(
    private readonly tags: TagsRepository,
    private readonly postTags: PostTagsRepository,
    private readonly pages: Paginator,
  ) {}

  /** A taken name (case-insensitively) fails on the unique index: 409 from the filter. */
  async create(actor: Actor | undefined, dto: CreateTagDto): Promise<TagResponseDto> {
    enforce(TagsPolicy.create(actor), { action: 'create tags', resource: 'Tag' });
    const row = await this.tags.create({ name: dto.name });
    return toTagResponse(row, 0);
  }

  /** Each tag with its count of live published posts: one statement for the counts of the whole page. */
  async findAll(query: ListTagsQueryDto): Promise<Page<TagResponseDto>> {
    const window = this.pages.window('tags', query, toOrder(query.sort, TAG_SORT_FIELDS));
    const found = await this.tags.page({}, window);
    const counts = await this.postTags.livePostCounts(found.rows.map((row) => row.id));
    return this.pages.page(
      found.rows.map((row) => toTagResponse(row, counts.get(row.id) ?? 0)),
      found,
      window,
    );
  }

  async findOne(id: number): Promise<TagResponseDto> {
    const row = await this.tags.findLive(id);
    if (!row) throw new NotFoundException(`Tag ${id} not found`);
    return this.withCount(row);
  }

  async update(actor: Actor | undefined, id: number, dto: UpdateTagDto): Promise<TagResponseDto> {
    enforce(TagsPolicy.write(actor), { action: `change tag ${id}`, resource: `Tag ${id}` });
    const row = await this.tags.update(id, () => (dto.name === undefined ? {} : { name: dto.name }));
    if (!row) throw new NotFoundException(`Tag ${id} not found`);
    return this.withCount(row);
  }

  /** Soft-deletes the tag; posts keep their links, which no read follows while it is deleted. */
  async remove(actor: Actor | undefined, id: number): Promise<void> {
    enforce(TagsPolicy.write(actor), { action: `delete tag ${id}`, resource: `Tag ${id}` });
    if (!(await this.tags.remove(id))) throw new NotFoundException(`Tag ${id} not found`);
  }

  private async withCount(row: TagRow): Promise<TagResponseDto> {
    return toTagResponse(row, (await this.postTags.livePostCounts([row.id])).get(row.id) ?? 0);
  }
}
