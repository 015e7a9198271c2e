/**
 * Rate limits (@nestjs/throttler): a default budget per client IP on every route, and two strict ones on the
 * routes marked @AuthRateLimit() (login, register, refresh): per IP, and per email address whatever the IP, so
 * neither one address nor one account can be hammered. Counts live in this process, or in Redis when REDIS_URL
 * is set so that every instance shares them. RATE_LIMIT=off turns all of it off.
 */
import { createHash } from 'node:crypto';
import { applyDecorators, type CanActivate, type ExecutionContext, Injectable, Logger, type Provider, SetMetadata } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { ApiTooManyRequestsResponse } from '@nestjs/swagger';
import {
  getOptionsToken,
  getStorageToken,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ConfigService } from '@nestjs/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Environment, NodeEnv } from '../../config/environment';
import { normaliseEmail } from '../validation/email';

const AUTH_RATE_LIMIT_KEY = 'app:auth-rate-limit';

/** The strict limits of the credential routes. */
export const AuthRateLimit = (): MethodDecorator =>
  applyDecorators(
    SetMetadata(AUTH_RATE_LIMIT_KEY, true),
    ApiTooManyRequestsResponse({ description: 'Too many attempts from this address or for this email: retry after Retry-After seconds' }),
  );

function isAuthRoute(context: ExecutionContext): boolean {
  return Reflect.getMetadata(AUTH_RATE_LIMIT_KEY, context.getHandler()) === true;
}

function bodyEmail(request: FastifyRequest): string | undefined {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' && email.length <= 255 ? normaliseEmail(email) : undefined;
}

export function throttlerOptions(config: ConfigService<Environment, true>): ThrottlerModuleOptions {
  const setting = <K extends keyof Environment>(key: K): Environment[K] => config.get(key, { infer: true });
  // With RATE_LIMIT=off the throttler never runs (RATE_LIMIT_GUARD below): no Redis connection is opened for it.
  const redisUrl = setting('RATE_LIMIT') === 'off' ? undefined : setting('REDIS_URL');
  if (setting('RATE_LIMIT') === 'on' && !redisUrl && setting('NODE_ENV') === NodeEnv.Production) {
    // Not an error: one instance is a valid deployment. Behind a load balancer each instance would count on its own.
    new Logger('RateLimit').warn('REDIS_URL is not set: rate limits are counted in this process; with several instances, set REDIS_URL so they share one count');
  }
  return {
    throttlers: [
      { name: 'default', limit: setting('RATE_LIMIT_MAX'), ttl: setting('RATE_LIMIT_WINDOW_MS') },
      {
        name: 'auth-ip',
        limit: setting('AUTH_RATE_LIMIT_PER_IP'),
        ttl: setting('AUTH_RATE_LIMIT_WINDOW_MS'),
        skipIf: (context) => !isAuthRoute(context),
      },
      {
        name: 'auth-email',
        limit: setting('AUTH_RATE_LIMIT_PER_EMAIL'),
        ttl: setting('AUTH_RATE_LIMIT_WINDOW_MS'),
        skipIf: (context) => !isAuthRoute(context) || bodyEmail(context.switchToHttp().getRequest<FastifyRequest>()) === undefined,
        getTracker: (request) => `email:${bodyEmail(request as FastifyRequest)}`,
      },
    ],
    // One count per client and limit, across routes (the library's default key also names the route, which would
    // give a client a fresh budget on every endpoint); the tracker is hashed so no address or email is stored as is.
    generateKey: (_context, tracker, name) => `${name}:${createHash('sha256').update(tracker).digest('base64url')}`,
    // Retry-After is set by ApiThrottlerGuard; the per-throttler headers would name internals.
    setHeaders: false,
    errorMessage: 'Too many requests: retry after the number of seconds in Retry-After',
    storage:
      redisUrl
        ? new ThrottlerStorageRedisService(redisUrl, {
            // Never queue behind a Redis that is down: a command fails at once and the request is let through.
            enableOfflineQueue: false,
            keyPrefix: 'rate-limit:',
            maxRetriesPerRequest: 0,
            commandTimeout: 1000,
            lazyConnect: false,
          })
        : undefined,
  };
}

/** At most one warning per interval while the store is failing: every request would otherwise log one per limit. */
const STORE_WARNING_INTERVAL_MS = 10_000;

@Injectable()
export class ApiThrottlerGuard extends ThrottlerGuard {
  private readonly log = new Logger('RateLimit');
  private lastStoreWarning = 0;

  /** A 429 always says when to come back, in the standard header. */
  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    void context.switchToHttp().getResponse<FastifyReply>().header('Retry-After', String(Math.max(1, detail.timeToBlockExpire)));
    return super.throwThrottlingException(context, detail);
  }

  /** Counting is best effort: when the store fails (Redis down), the request is served and the failure logged. */
  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    try {
      return await super.handleRequest(request);
    } catch (error) {
      if (error instanceof ThrottlerException) throw error;
      if (Date.now() - this.lastStoreWarning >= STORE_WARNING_INTERVAL_MS) {
        this.lastStoreWarning = Date.now();
        this.log.warn(`Rate limit store unavailable, requests not counted: ${error instanceof Error ? error.message : String(error)}`);
      }
      return true;
    }
  }
}

/** Lets every request through at no cost (synchronously: Nest awaits nothing for it). */
const NO_RATE_LIMIT: CanActivate = { canActivate: () => true };

/**
 * The global rate-limit guard. With RATE_LIMIT=off it is not the throttler at all: the benchmark and the tests that do
 * not test limits then pay nothing per request for it.
 */
export const RATE_LIMIT_GUARD: Provider = {
  provide: APP_GUARD,
  inject: [getOptionsToken(), getStorageToken(), Reflector, ConfigService],
  useFactory: (options: ThrottlerModuleOptions, storage: ThrottlerStorage, reflector: Reflector, config: ConfigService<Environment, true>) =>
    config.get('RATE_LIMIT', { infer: true }) === 'off' ? NO_RATE_LIMIT : new ApiThrottlerGuard(options, storage, reflector),
};
