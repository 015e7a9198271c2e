/**
 * The list envelope `{ data, meta: { total, limit, offset } }`: the builder the
 * services use and the DTO classes that document it in OpenAPI.
 */
import type { Type } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';

export class PageMetaDto {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Rows matching the filters, all pages together' })
  readonly total!: number;

  @ApiProperty({ type: 'integer', minimum: 1 })
  readonly limit!: number;

  @ApiProperty({ type: 'integer', minimum: 0 })
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
// eslint-disable-next-line @typescript-eslint/explicit-module-boundary-types
export function PageDto<T>(item: Type<T>) {
  abstract class PageOf implements Page<T> {
    @ApiProperty({ type: [item] })
    readonly data!: T[];

    @ApiProperty({ type: PageMetaDto })
    readonly meta!: PageMetaDto;
  }
  return PageOf;
}
