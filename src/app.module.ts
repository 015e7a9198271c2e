import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_FILTER, APP_GUARD, APP_PIPE, DiscoveryModule } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { ApiExceptionFilter } from './common/filters/api-exception.filter';
import { BodyLimitsGuard } from './common/guards/body-limits.guard';
import { TransactionalRoutesCheck } from './common/interceptors/transactional-routes.check';
import { ApiValidationPipe } from './common/pipes/api-validation.pipe';
import { type Environment, validateEnvironment } from './config/environment';
import { loggerParams } from './config/logger.config';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { PostsModule } from './posts/posts.module';
import { UsersModule } from './users/users.module';

@Module({
  imports: [
    // main.ts loads `.env` itself (before the embedded server starts), so the module reads process.env only.
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, cache: true, validate: validateEnvironment }),
    LoggerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<Environment, true>) =>
        loggerParams(config.get('NODE_ENV', { infer: true }), config.get('LOG_LEVEL', { infer: true })),
    }),
    DiscoveryModule,
    DatabaseModule,
    HealthModule,
    UsersModule,
    PostsModule,
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
    { provide: APP_GUARD, useClass: BodyLimitsGuard },
    { provide: APP_FILTER, useClass: ApiExceptionFilter },
    // The TransactionInterceptor is bound per route by @TransactionalRoutes(); this refuses to start when one lacks it.
    TransactionalRoutesCheck,
  ],
})
export class AppModule {}
