import { BadRequestException, Injectable } from '@nestjs/common';
import type { Actor } from '../common/access/actor';
import { adminOnly, enforce } from '../common/access/access';
import { toPage, type Page } from '../common/pagination/page.dto';
import { AuditRepository } from './audit.repository';
import type { AuditQueryDto } from './dto/audit-query.dto';
import { toAuditEvent, type AuditEventDto } from './dto/audit-event.dto';

@Injectable()
export class AuditService {
  constructor(private readonly events: AuditRepository) {}

  /** Admins only: the trail names every actor and every changed field. */
  async findAll(actor: Actor | undefined, query: AuditQueryDto): Promise<Page<AuditEventDto>> {
    enforce(adminOnly(actor), { action: 'read the audit trail', resource: 'Audit trail' });
    // A row id means nothing without its table.
    if (query.rowId !== undefined && query.table === undefined) throw new BadRequestException(['rowId requires table']);
    const { rows, total } = await this.events.page({ table: query.table, rowId: query.rowId }, query);
    return toPage(rows.map(toAuditEvent), total, query);
  }
}
