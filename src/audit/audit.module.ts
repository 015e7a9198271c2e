import { Module } from '@nestjs/common';
import { SequelizeModule } from '@nestjs/sequelize';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';
import { AuditEvent } from './models/audit-event.model';

// Writing needs no provider: the models' hooks record changes (audit-trail.ts). This module reads the trail.
@Module({
  imports: [SequelizeModule.forFeature([AuditEvent])],
  controllers: [AuditController],
  providers: [AuditService, AuditRepository],
})
export class AuditModule {}
