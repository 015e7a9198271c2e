/**
 * GET /metrics: the Prometheus text exposition, outside /api and the OpenAPI document (it is for a scraper, not
 * for API clients). Off (404, as for any unknown path) in production without METRICS_TOKEN. With METRICS_TOKEN,
 * only a scraper sending `Authorization: Bearer <METRICS_TOKEN>` gets it (Prometheus' `authorization` setting);
 * the AuthGuard leaves that header to this controller (@OwnCredentials), since it is no access token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Controller, Get, Header, Headers, NotFoundException, Res, UnauthorizedException, VERSION_NEUTRAL } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiExcludeController } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { OwnCredentials, Public } from '../common/access/actor';
import type { Environment } from '../config/environment';
import { MetricsService } from './metrics.service';

const BEARER = /^Bearer +(\S+) *$/i;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

@ApiExcludeController()
@Public()
@OwnCredentials()
@SkipThrottle()
@Controller({ path: 'metrics', version: VERSION_NEUTRAL })
export class MetricsController {
  /** The token's SHA-256: compared with the offered one's in constant time, whatever their lengths. */
  private readonly tokenDigest?: Buffer;

  constructor(
    private readonly metrics: MetricsService,
    config: ConfigService<Environment, true>,
  ) {
    const token = config.get('METRICS_TOKEN', { infer: true });
    if (token !== undefined) this.tokenDigest = digest(token);
  }

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    if (!this.metrics.enabled) throw new NotFoundException('Cannot GET /metrics');
    if (this.tokenDigest) {
      const offered = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
      // The exception filter adds WWW-Authenticate to every 401.
      if (offered === undefined || !timingSafeEqual(digest(offered), this.tokenDigest)) {
        throw new UnauthorizedException('Metrics require Authorization: Bearer <METRICS_TOKEN>');
      }
    }
    void reply.header('Content-Type', this.metrics.contentType);
    return (await this.metrics.render()) ?? '';
  }
}
