import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { PageDto } from '../../common/pagination/page.dto';
import { AUDIT_ACTIONS, type AuditAction, type AuditEventAttributes } from '../models/audit-event.model';

@ApiSchema({ name: 'AuditEvent', description: 'One change to one row of an audited table' })
export class AuditEventDto {
  @ApiProperty({ type: 'string', pattern: '^[0-9]+$', description: 'Increasing in the order the changes were recorded' })
  readonly id!: string;

  @ApiProperty({ type: 'integer', nullable: true, description: 'The user who made the change; null outside a request (CLI, seeds) and for anonymous ones (registration)' })
  readonly actorId!: number | null;

  @ApiProperty({ enum: AUDIT_ACTIONS, description: 'What happened to the row (delete and restore are soft)' })
  readonly action!: AuditAction;

  @ApiProperty({ description: 'The table of the changed row', example: 'posts' })
  readonly table!: string;

  @ApiProperty({ description: "The changed row's primary key (the parts of a composite key joined by ':')", example: '42' })
  readonly rowId!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The new value of each field that changed (every field on create); a secret appears by its public name with the value "[redacted]" (a password change: `"password": "[redacted]"`), never its value',
  })
  readonly changes!: Record<string, unknown>;

  @ApiProperty({ type: 'string', nullable: true, description: 'The X-Request-Id of the request that made the change' })
  readonly requestId!: string | null;

  @ApiProperty({ type: 'string', format: 'date-time', description: 'When the change was committed (its transaction began)' })
  readonly createdAt!: Date;
}

@ApiSchema({ name: 'AuditEventPage', description: 'A page of audit events, newest first' })
export class AuditEventPageDto extends PageDto(AuditEventDto) {}

export function toAuditEvent(row: AuditEventAttributes): AuditEventDto {
  return {
    id: String(row.id),
    actorId: row.actorId,
    action: row.action,
    table: row.tableName,
    rowId: row.rowId,
    changes: row.changes,
    requestId: row.requestId,
    createdAt: row.createdAt,
  };
}
