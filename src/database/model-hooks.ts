/**
 * The hooks every Sequelize instance of the app carries, whoever creates it (the app's DatabaseModule, the
 * create-admin CLI): declared cascades, row versions on upserts, the audit trail, and row locks for the per-row
 * statements these make. Models opt in by decorators (`@FollowsParent`, `@Audited`); the hooks ignore the rest.
 */
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Sequelize } from 'sequelize-typescript';
import { installAuditTrail } from '../audit/audit-trail';
import { installCascades } from '../common/database/cascades';
import { installRowLocks } from '../common/database/row-locks';
import { installRowVersions } from '../common/database/row-versions';

export function installModelHooks(sequelize: Sequelize): void {
  installCascades(sequelize);
  installRowVersions(sequelize);
  installAuditTrail(sequelize);
  // Last: it locks the rows of the statements the hooks above made per-row.
  installRowLocks(sequelize);
}

@Injectable()
export class ModelHooks implements OnModuleInit {
  constructor(private readonly sequelize: Sequelize) {}

  onModuleInit(): void {
    installModelHooks(this.sequelize);
  }
}
