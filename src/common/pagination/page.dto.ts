/**
 * The list envelope `{ data, meta: { total?, limit, offset?, nextCursor } }` and the DTO classes that document it in
 * OpenAPI. Paginator builds it.
 */
import type { Type } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'PageMeta', description: 'Where a page lies in the whole result, and how to get the next one' })
export class PageMetaDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'Rows matching the filters, all pages together. On offset pages unless `withTotal=false`; on cursor pages only with `withTotal=true`',
  })
  readonly total?: number;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Page size applied: the `limit` asked for, or its default' })
  readonly limit!: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: 'Offset pages only: rows skipped before this page' })
  readonly offset?: number;

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Pass as `cursor` (with the same sort and filters) for the rows after this page; null on the last page',
  })
  readonly nextCursor!: string | null;
}

export interface Page<T> {
  data: T[];
  meta: PageMetaDto;
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
