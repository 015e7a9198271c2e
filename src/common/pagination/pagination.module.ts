import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Environment } from '../../config/environment';
import { Paginator } from './paginator';

// Global: every list's service takes the Paginator, and the key must be the same one everywhere.
@Global()
@Module({
  providers: [
    {
      provide: Paginator,
      inject: [ConfigService],
      useFactory: (config: ConfigService<Environment, true>) => new Paginator(config.get('JWT_SECRET', { infer: true })),
    },
  ],
  exports: [Paginator],
})
export class PaginationModule {}
