/**
 * The hooks every Sequelize instance of the app carries, whoever creates it (the app's DatabaseModule, the
 * create-admin CLI): declared cascades, row versions on upserts and the audit trail. Models opt in by decorators (`@FollowsParent`,
 * `@Audited`); the hooks ignore the rest.
 */
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Sequelize } from 'sequelize-typescript';
import { installAuditTrail } from '../audit/audit-trail';
import { installCascades } from '../common/database/cascades';
import { installRowVersions } from '../common/database/row-versions';

export function installModelHooks(sequelize: Sequelize): void {
  installCascades(sequelize);
  installRowVersions(sequelize);
  installAuditTrail(sequelize);
}

@Injectable()
export class ModelHooks implements OnModuleInit {
  constructor(private readonly sequelize: Sequelize) {}

  onModuleInit(): void {
    installModelHooks(this.sequelize);
  }
}
