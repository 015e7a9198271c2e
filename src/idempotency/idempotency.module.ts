import { Global, Module } from '@nestjs/common';
import { SequelizeModule } from '@nestjs/sequelize';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IdempotencyRepository } from './idempotency.repository';
import { IdempotencySweeper } from './idempotency-sweeper';
import { IdempotencyKey } from './models/idempotency-key.model';

// Global: @Idempotent() binds its interceptor in the module of every controller that uses it.
@Global()
@Module({
  imports: [SequelizeModule.forFeature([IdempotencyKey])],
  providers: [IdempotencyRepository, IdempotencyInterceptor, IdempotencySweeper],
  exports: [IdempotencyRepository, IdempotencyInterceptor],
})
export class IdempotencyModule {}
