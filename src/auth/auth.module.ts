import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtModule } from '@nestjs/jwt';
import type { Environment } from '../config/environment';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { jwtOptions, TokensService } from './tokens.service';

// AuthGuard is exported for AppModule to register globally, in order with the other global guards; its own
// dependencies are resolved here.
@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<Environment, true>) => jwtOptions(config),
    }),
    SessionsModule,
    UsersModule,
  ],
  controllers: [AuthController],
  providers: [AuthService, TokensService, AuthGuard],
  exports: [AuthGuard],
})
export class AuthModule {}
