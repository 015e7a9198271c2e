import { Controller, Get, ServiceUnavailableException, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, type HealthCheckResult, HealthCheckService, SequelizeHealthIndicator } from '@nestjs/terminus';

@ApiTags('health')
@Controller({ path: 'health', version: VERSION_NEUTRAL })
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: SequelizeHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness and database reachability', operationId: 'getHealth' })
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
