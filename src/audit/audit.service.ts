import { BadRequestException, Injectable } from '@nestjs/common';
import type { Actor } from '../common/access/actor';
import { adminOnly, enforce } from '../common/access/access';
import type { Page } from '../common/pagination/page.dto';
import { Paginator } from '../common/pagination/paginator';
import type { SortOrder } from '../common/pagination/sort';
import { AuditRepository } from './audit.repository';
import type { AuditQueryDto } from './dto/audit-query.dto';
import { toAuditEvent, type AuditEventDto } from './dto/audit-event.dto';

const NEWEST_FIRST: SortOrder = [['id', 'DESC']];

@Injectable()
export class AuditService {
  constructor(
    private readonly events: AuditRepository,
    private readonly pages: Paginator,
  ) {}

  /** Admins only: the trail names every actor and every changed field. */
  async findAll(actor: Actor | undefined, query: AuditQueryDto): Promise<Page<AuditEventDto>> {
    enforce(adminOnly(actor), { action: 'read the audit trail', resource: 'Audit trail' });
    // A row id means nothing without its table.
    if (query.rowId !== undefined && query.table === undefined) throw new BadRequestException(['rowId requires table']);
    const window = this.pages.window('audit', query, NEWEST_FIRST, { table: query.table, rowId: query.rowId });
    const found = await this.events.page({ table: query.table, rowId: query.rowId }, window);
    return this.pages.page(found.rows.map(toAuditEvent), found, window);
  }
}
