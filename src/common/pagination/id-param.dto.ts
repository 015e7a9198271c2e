/**
 * `:id` path parameters. A DTO rather than a pipe: the global ValidationPipe
 * (transform on) would otherwise turn the raw string into a number with `+value`
 * first, so "0x10", "1e3" or "" would pass as 16, 1000 or 0. Here the raw string
 * must be plain digits, within int4 so that Postgres never sees an out-of-range id.
 */
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { MAX_ID } from './input-rules';
import { toInteger } from './query-transforms';

export class IdParamDto {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_ID })
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(MAX_ID)
  readonly id!: number;
}
