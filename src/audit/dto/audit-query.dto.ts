import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { PageQueryDto } from '../../common/pagination/list-query.dto';

/** limit, offset or cursor, and withTotal as on every list; the order is fixed: newest first. */
export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only changes to this table', example: 'posts', pattern: '^[a-z_][a-z0-9_]{0,62}$' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'table must be a table name (lower-case letters, digits, underscores)' })
  readonly table?: string;

  @ApiPropertyOptional({ description: "Only changes to this row (its primary key); needs `table`", example: '42', maxLength: 64 })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  @Matches(/^[\x21-\x7e]+$/, { message: 'rowId must be visible ASCII characters' })
  readonly rowId?: string;
}
