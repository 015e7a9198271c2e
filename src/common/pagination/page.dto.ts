/**
 * The list envelope `{ data, meta: { total, limit, offset } }`: the builder the
 * services use and the DTO classes that document it in OpenAPI.
 */
import type { Type } from '@nestjs/common';
import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'PageMeta', description: 'Where a page lies in the whole result' })
export class PageMetaDto {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Rows matching the filters, all pages together' })
  readonly total!: number;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Page size applied: the `limit` asked for, or its default' })
  readonly limit!: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Rows skipped before this page: the `offset` asked for, or 0' })
  readonly offset!: number;
}

export interface Page<T> {
  data: T[];
  meta: PageMetaDto;
}

export function toPage<T>(data: T[], total: number, window: { limit: number; offset: number }): Page<T> {
  return { data, meta: { total, limit: window.limit, offset: window.offset } };
}

/** `class UserPageDto extends PageDto(UserResponseDto) {}` names the schema in OpenAPI. */
export function PageDto<T>(item: Type<T>) {
  abstract class PageOf implements Page<T> {
    @ApiProperty({ type: [item], description: 'This page of rows, in the requested order' })
    readonly data!: T[];

    @ApiProperty({ type: PageMetaDto, description: 'Where this page lies in the whole result' })
    readonly meta!: PageMetaDto;
  }
  return PageOf;
}
