import { Controller, Get, ServiceUnavailableException, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../common/access/actor';
import { HealthCheck, type HealthCheckResult, HealthCheckService, SequelizeHealthIndicator } from '@nestjs/terminus';

const INDICATORS_SCHEMA = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'down'] } },
    additionalProperties: true,
  },
  example: { database: { status: 'up' } },
};

/** Terminus's HealthCheckResult when every indicator is up. */
const HEALTHY_SCHEMA = {
  type: 'object',
  required: ['status', 'info', 'error', 'details'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    info: INDICATORS_SCHEMA,
    error: { ...INDICATORS_SCHEMA, example: {} },
    details: INDICATORS_SCHEMA,
  },
};

// Probes are anonymous and frequent: no token needed, no rate limit.
@Public()
@SkipThrottle()
@ApiTags('health')
@Controller({ path: 'health', version: VERSION_NEUTRAL })
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: SequelizeHealthIndicator,
  ) {}

  @Get()
  // Terminus documents its own 503 body, which this endpoint replaces with the API's error shape.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'Liveness and database reachability', operationId: 'getHealth' })
  @ApiOkResponse({ description: 'The service and its database answer', schema: HEALTHY_SCHEMA })
  @ApiServiceUnavailableResponse({ description: 'A dependency (the database) did not answer in time' })
  async check(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.database.pingCheck('database', { timeout: 1500 })]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      // Same error shape as the rest of the API, naming what is down.
      const result = error.getResponse() as HealthCheckResult;
      throw new ServiceUnavailableException(`Unhealthy: ${Object.keys(result.error ?? {}).join(', ') || 'unknown'} down`);
    }
  }
}
