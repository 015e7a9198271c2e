import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_FILTER, APP_GUARD, APP_PIPE, DiscoveryModule } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { AuditModule } from './audit/audit.module';
import { AuthGuard } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { ApiExceptionFilter } from './common/filters/api-exception.filter';
import { RequestInputGuard } from './common/guards/request-input.guard';
import { TransactionalRoutesCheck } from './common/interceptors/transactional-routes.check';
import { ApiValidationPipe } from './common/pipes/api-validation.pipe';
import { RATE_LIMIT_GUARD, throttlerOptions } from './common/rate-limit/rate-limit';
import { type Environment, validateEnvironment } from './config/environment';
import { loggerParams } from './config/logger.config';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { PaginationModule } from './common/pagination/pagination.module';
import { ObservabilityModule } from './observability/observability.module';
import { PostsModule } from './posts/posts.module';
import { UsersModule } from './users/users.module';
import { CommentsModule } from './comments/comments.module';
import { TagsModule } from './tags/tags.module';
// generator: module imports (npm run generate -- module <name> adds its import above this line)

@Module({
  imports: [
    // main.ts loads `.env` itself (before the embedded server starts), so the module reads process.env only.
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, cache: true, validate: validateEnvironment }),
    LoggerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<Environment, true>) =>
        loggerParams(config.get('NODE_ENV', { infer: true }), config.get('LOG_LEVEL', { infer: true })),
    }),
    ThrottlerModule.forRootAsync({ inject: [ConfigService], useFactory: throttlerOptions }),
    // Periodic jobs (the idempotency key sweeper).
    ScheduleModule.forRoot(),
    DiscoveryModule,
    DatabaseModule,
    ObservabilityModule,
    HealthModule,
    AuthModule,
    AuditModule,
    IdempotencyModule,
    PaginationModule,
    UsersModule,
    PostsModule,
    CommentsModule,
    TagsModule,
    // generator: modules (npm run generate -- module <name> adds its module above this line)
  ],
  providers: [
    {
      provide: APP_PIPE,
      useValue: new ApiValidationPipe({
        whitelist: true,
        forbidNonWhitelisted: true,
        transform: true,
        // Unknown nested values are rejected rather than silently passed through.
        forbidUnknownValues: true,
      }),
    },
    // Global guards run in this order: rate limits before any work, then who is calling, then the shape of the query and body.
    RATE_LIMIT_GUARD,
    { provide: APP_GUARD, useExisting: AuthGuard },
    { provide: APP_GUARD, useClass: RequestInputGuard },
    { provide: APP_FILTER, useClass: ApiExceptionFilter },
    // The TransactionInterceptor is bound per route by @TransactionalRoutes(); this refuses to start when one lacks it.
    TransactionalRoutesCheck,
  ],
})
export class AppModule {}
