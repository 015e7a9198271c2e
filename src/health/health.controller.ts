/**
 * Probes for orchestrators and load balancers, outside /api and never rate limited:
 * - GET /health/live: the process serves HTTP. No I/O, so a database outage never gets a healthy process restarted.
 * - GET /health/ready: send traffic here? The database answers within HEALTH_DB_TIMEOUT_MS, no migration is pending
 *   and the instance is not draining (SIGTERM received).
 * - GET /health: the readiness check, kept for existing clients.
 */
import { Controller, Get, ServiceUnavailableException, VERSION_NEUTRAL } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { HealthCheck, type HealthCheckResult, HealthCheckService, SequelizeHealthIndicator } from '@nestjs/terminus';
import { Public } from '../common/access/actor';
import type { Environment } from '../config/environment';
import { Draining } from './draining';
import { MigrationsHealthIndicator } from './migrations.health';

const INDICATORS_SCHEMA = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'down'] } },
    additionalProperties: true,
  },
  example: { database: { status: 'up' }, migrations: { status: 'up' } },
};

/** Terminus's HealthCheckResult when every indicator is up. */
const READY_SCHEMA = {
  type: 'object',
  required: ['status', 'info', 'error', 'details'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    info: INDICATORS_SCHEMA,
    error: { ...INDICATORS_SCHEMA, example: {} },
    details: INDICATORS_SCHEMA,
  },
};

const LIVE_SCHEMA = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['ok'] } },
  additionalProperties: false,
};

const NOT_READY = 'Not ready: the database did not answer in time, a migration is pending, or the instance is shutting down';

/** How a failed indicator is named in the 503's message. */
function downPhrase(key: string, details: Record<string, unknown> | undefined): string {
  if (key === 'database') return 'database down';
  if (key === 'migrations') return PENDING.test(String(details?.message)) ? 'migrations pending' : 'migrations unchecked';
  return `${key} down`;
}

/** The migrations indicator's message when it found some pending (any other: it could not tell). */
const PENDING = /^\d+ pending$/;

// Probes are anonymous and frequent: no token needed, no rate limit.
@Public()
@SkipThrottle()
@ApiTags('health')
@Controller({ path: 'health', version: VERSION_NEUTRAL })
export class HealthController {
  private readonly timeoutMs: number;

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: SequelizeHealthIndicator,
    private readonly migrations: MigrationsHealthIndicator,
    private readonly draining: Draining,
    config: ConfigService<Environment, true>,
  ) {
    this.timeoutMs = config.get('HEALTH_DB_TIMEOUT_MS', { infer: true });
  }

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process serves HTTP (no I/O, independent of the database)', operationId: 'getLiveness' })
  @ApiOkResponse({ description: 'The process is alive', schema: LIVE_SCHEMA })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  // Terminus documents its own 503 body, which this endpoint replaces with the API's error shape.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'Readiness: database reachable, no pending migration, not shutting down', operationId: 'getReadiness' })
  @ApiOkResponse({ description: 'Ready for traffic', schema: READY_SCHEMA })
  @ApiServiceUnavailableResponse({ description: NOT_READY })
  ready(): Promise<HealthCheckResult> {
    return this.readiness();
  }

  @Get()
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'Readiness (same as /health/ready), kept for existing clients', operationId: 'getHealth' })
  @ApiOkResponse({ description: 'Ready for traffic', schema: READY_SCHEMA })
  @ApiServiceUnavailableResponse({ description: NOT_READY })
  check(): Promise<HealthCheckResult> {
    return this.readiness();
  }

  private async readiness(): Promise<HealthCheckResult> {
    // Checked first and without I/O: a draining instance is not ready whatever its database says.
    if (this.draining.active) throw new ServiceUnavailableException('Unhealthy: draining');
    try {
      return await this.health.check([
        () => this.database.pingCheck('database', { timeout: this.timeoutMs }),
        () => this.migrations.check('migrations', this.timeoutMs),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      // Same error shape as the rest of the API, naming what is wrong. With the database down, whether migrations are
      // pending is unknown, not a second fault.
      const failed = (error.getResponse() as HealthCheckResult).error ?? {};
      const named = 'database' in failed ? ['database'] : Object.keys(failed);
      throw new ServiceUnavailableException(`Unhealthy: ${named.map((key) => downPhrase(key, failed[key])).join(', ') || 'unknown'}`);
    }
  }
}
