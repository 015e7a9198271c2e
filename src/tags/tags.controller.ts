import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { type Actor, CurrentActor, Public } from '../common/access/actor';
import { TransactionalRoutes } from '../common/interceptors/transactional-routes.decorator';
import type { Page } from '../common/pagination/page.dto';
import { IdParam } from '../common/validation/id-param.decorator';
import { CreateTagDto } from './dto/create-tag.dto';
import { ListTagsQueryDto } from './dto/tag-query.dto';
import { TagPageDto, TagResponseDto } from './dto/tag-response.dto';
import { UpdateTagDto } from './dto/update-tag.dto';
import { TagsService } from './tags.service';
import { Conditional } from '../common/guards/conditional-request.guard';
import { Idempotent } from '../idempotency/idempotency.interceptor';

@TransactionalRoutes()
@ApiTags('tags')
@Controller({ version: '1' })
export class TagsController {
  constructor(private readonly tags: TagsService) {}

  @Post('tags')
  @Idempotent()
  @ApiOperation({ summary: 'Create a tag (admins)', operationId: 'createTag' })
  @ApiCreatedResponse({ type: TagResponseDto, description: 'The created tag' })
  @ApiBadRequestResponse({ description: 'Invalid body' })
  @ApiForbiddenResponse({ description: 'Not an admin' })
  @ApiConflictResponse({ description: 'A live tag has this name (case-insensitively)' })
  create(@CurrentActor() actor: Actor, @Body() dto: CreateTagDto): Promise<TagResponseDto> {
    return this.tags.create(actor, dto);
  }

  @Get('tags')
  @Public()
  @ApiOperation({ summary: 'List tags', description: 'Each with the number of live published posts that carry it.', operationId: 'listTags' })
  @ApiOkResponse({ type: TagPageDto, description: 'A page of live tags' })
  @ApiBadRequestResponse({ description: 'Unknown or invalid query parameter' })
  findAll(@Query() query: ListTagsQueryDto): Promise<Page<TagResponseDto>> {
    return this.tags.findAll(query);
  }

  @Get('tags/:id')
  @Public()
  @ApiOperation({ summary: 'Get a tag', operationId: 'getTag' })
  @ApiOkResponse({ type: TagResponseDto, description: 'The tag' })
  @ApiBadRequestResponse({ description: 'Invalid id' })
  @ApiNotFoundResponse({ description: 'No live tag with this id' })
  findOne(@IdParam() id: number): Promise<TagResponseDto> {
    return this.tags.findOne(id);
  }

  @Patch('tags/:id')
  // Tags have no version (their body carries a live count): If-Match can only be `*`, any other tag is a 412.
  @Conditional('write', { untagged: true })
  @ApiOperation({ summary: 'Update a tag (admins)', operationId: 'updateTag' })
  @ApiOkResponse({ type: TagResponseDto, description: 'The updated tag' })
  @ApiBadRequestResponse({ description: 'Invalid id or body' })
  @ApiForbiddenResponse({ description: 'Not an admin' })
  @ApiNotFoundResponse({ description: 'No live tag with this id' })
  @ApiConflictResponse({ description: 'A live tag has this name (case-insensitively)' })
  update(@CurrentActor() actor: Actor, @IdParam() id: number, @Body() dto: UpdateTagDto): Promise<TagResponseDto> {
    return this.tags.update(actor, id, dto);
  }

  @Delete('tags/:id')
  @Conditional('write', { untagged: true })
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Soft-delete a tag (admins)', operationId: 'deleteTag' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiBadRequestResponse({ description: 'Invalid id' })
  @ApiForbiddenResponse({ description: 'Not an admin' })
  @ApiNotFoundResponse({ description: 'No live tag with this id' })
  remove(@CurrentActor() actor: Actor, @IdParam() id: number): Promise<void> {
    return this.tags.remove(actor, id);
  }
}
