import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Actor, CurrentActor } from '../common/access/actor';
import type { Page } from '../common/pagination/page.dto';
import { AuditService } from './audit.service';
import { AuditEventPageDto, type AuditEventDto } from './dto/audit-event.dto';
import { AuditQueryDto } from './dto/audit-query.dto';

@ApiTags('audit')
@Controller({ path: 'audit', version: '1' })
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({
    summary: 'The audit trail (admins)',
    description: 'Every change to users, posts and later resources, one event per changed row, newest first. Filter by table, and by row within a table.',
    operationId: 'listAuditEvents',
  })
  @ApiOkResponse({ type: AuditEventPageDto, description: 'A page of audit events' })
  @ApiBadRequestResponse({ description: 'Unknown or invalid query parameter, or rowId without table' })
  @ApiForbiddenResponse({ description: 'Not an admin' })
  findAll(@CurrentActor() actor: Actor, @Query() query: AuditQueryDto): Promise<Page<AuditEventDto>> {
    return this.audit.findAll(actor, query);
  }
}
