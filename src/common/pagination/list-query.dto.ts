/**
 * The query parameters every list endpoint shares: limit, offset or cursor, withTotal, and sort.
 * A feature's query DTO extends `ListQueryDto(SORT_FIELDS)` and adds its filters (a list in a fixed order extends
 * PageQueryDto); being classes, unknown parameters are rejected by the global ValidationPipe.
 */
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Length, Matches, Max, MaxLength, Min, ValidateBy, buildMessage } from 'class-validator';
import { DEFAULT_SORT, MAX_SORT_KEYS, parseSort } from './sort';
import { toBoolean, toInteger } from './query-transforms';

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;
/**
 * The deepest offset page: the database walks and drops every skipped row, so the work grows with the offset. Deeper
 * than this, a client follows `nextCursor`, which costs the same at any depth.
 */
export const MAX_OFFSET = 10_000;
/** Room for five sort keys of the longest sortable values (an email of 254 characters), base64url, and the MAC. */
export const MAX_CURSOR_LENGTH = 2048;
const CURSOR = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const NotWithCursor = ValidateBy({
  name: 'notWithCursor',
  validator: {
    validate: (value, args) => value === 0 || (args?.object as { cursor?: unknown }).cursor === undefined,
    defaultMessage: () => 'offset cannot be combined with cursor: a cursor already says where the page starts',
  },
});

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

export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT })
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(MAX_LIMIT)
  readonly limit: number = DEFAULT_LIMIT;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_OFFSET,
    default: 0,
    description: `Rows to skip. Each skipped row is read and dropped, so offsets stop at ${MAX_OFFSET}: page deeper with \`cursor\``,
  })
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET, { message: `offset must not be greater than ${MAX_OFFSET}; to page deeper, follow meta.nextCursor` })
  @NotWithCursor
  readonly offset: number = 0;

  @ApiPropertyOptional({
    type: 'string',
    maxLength: MAX_CURSOR_LENGTH,
    pattern: CURSOR.source,
    description:
      "The previous page's `meta.nextCursor`: the rows after it, at the same cost at any depth; rows created or deleted " +
      'meanwhile make no row skipped or repeated (a row whose sort key changed is listed where it sorts now). Opaque, ' +
      'and valid only on the same list with the same sort and filters (400 otherwise)',
  })
  @IsOptional()
  @IsString()
  @Length(1, MAX_CURSOR_LENGTH)
  @Matches(CURSOR, { message: 'cursor must be a meta.nextCursor of this list, unchanged' })
  readonly cursor?: string;

  @ApiPropertyOptional({
    type: 'boolean',
    description: 'Whether meta carries `total` (counting reads every matching row). Default: true on offset pages, false with `cursor`',
  })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  readonly withTotal?: boolean;
}

export function ListQueryDto<F extends string>(sortFields: readonly F[]) {
  class ListQuery extends PageQueryDto {
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
