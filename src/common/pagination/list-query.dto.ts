/**
 * The query parameters every list endpoint shares: limit, offset and sort.
 * A feature's query DTO extends `ListQueryDto(SORT_FIELDS)` and adds its filters;
 * being classes, unknown parameters are rejected by the global ValidationPipe.
 */
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateBy, buildMessage } from 'class-validator';
import { DEFAULT_SORT, MAX_SORT_KEYS, parseSort } from './sort';
import { toInteger } from './query-transforms';

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;
/** Postgres accepts larger offsets, but nothing useful lies beyond int4. */
export const MAX_OFFSET = 2_147_483_647;

export function IsSortExpression(allowed: readonly string[]): PropertyDecorator {
  return ValidateBy({
    name: 'isSortExpression',
    constraints: [allowed],
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseSort(value, allowed) !== null,
      defaultMessage: buildMessage(
        (each) =>
          `${each}$property must be a comma-separated list of up to ${MAX_SORT_KEYS} distinct fields ` +
          `(${allowed.join(', ')}), each optionally prefixed with "-" for descending order`,
      ),
    },
  });
}

export function ListQueryDto<F extends string>(sortFields: readonly F[]) {
  class ListQuery {
    @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT })
    @IsOptional()
    @Transform(toInteger)
    @IsInt()
    @Min(1)
    @Max(MAX_LIMIT)
    readonly limit: number = DEFAULT_LIMIT;

    @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0 })
    @IsOptional()
    @Transform(toInteger)
    @IsInt()
    @Min(0)
    @Max(MAX_OFFSET)
    readonly offset: number = 0;

    @ApiPropertyOptional({
      type: 'string',
      default: DEFAULT_SORT,
      maxLength: 100,
      pattern: `^-?(${sortFields.join('|')})(,-?(${sortFields.join('|')})){0,${MAX_SORT_KEYS - 1}}$`,
      description:
        `Comma-separated fields among ${sortFields.join(', ')}; prefix a field with "-" for descending order. ` +
        'Ties are broken by id.',
    })
    @IsOptional()
    @IsString()
    @MaxLength(100)
    @IsSortExpression(sortFields)
    readonly sort: string = DEFAULT_SORT;
  }
  return ListQuery;
}
