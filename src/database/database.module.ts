import { Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SequelizeModule } from '@nestjs/sequelize';
import { enableRequestTransactions } from '../common/database/transaction-context';
import type { Environment } from '../config/environment';
import { pgConnectionOptions, pgDialectModule } from './connection-options';
import { DatabaseStatus } from './database-status';
import { MigrationsService } from './migrations.service';
import { ModelHooks } from './model-hooks';

@Module({
  imports: [
    SequelizeModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<Environment, true>) => {
        // Before the instance exists: request transactions reach every query through Sequelize's CLS hook.
        enableRequestTransactions();
        const sqlLogger = new Logger('SQL');
        return {
          dialect: 'postgres' as const,
          dialectModule: pgDialectModule,
          uri: config.getOrThrow('DATABASE_URL', { infer: true }),
          autoLoadModels: true,
          // The schema belongs to the migrations: never let the ORM alter it.
          synchronize: false,
          logging: config.get('sqlLogging', { infer: true }) ? (sql: string) => sqlLogger.log(sql) : false,
          pool: {
            max: config.get('DB_POOL_MAX', { infer: true }),
            min: config.get('DB_POOL_MIN', { infer: true }),
            acquire: config.get('DB_POOL_ACQUIRE_MS', { infer: true }),
            idle: config.get('DB_POOL_IDLE_MS', { infer: true }),
          },
          // Every round trip bounded: connect, statement, lock, idle transaction, client-side query time-out, keepalive.
          dialectOptions: pgConnectionOptions(config.get('databaseLimits', { infer: true })),
          retryAttempts: 2,
          retryDelay: 1000,
        };
      },
    }),
  ],
  providers: [MigrationsService, DatabaseStatus, ModelHooks],
  exports: [DatabaseStatus],
})
export class DatabaseModule {}
