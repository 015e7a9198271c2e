/**
 * HTTP-level setup shared by main.ts, the e2e harness and the OpenAPI generator,
 * so tests exercise exactly what production serves.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { VersioningType } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';

export const API_PREFIX = 'api';
export const BODY_LIMIT_BYTES = 1024 * 1024;

const REQUEST_ID_HEADER = 'x-request-id';
// A caller's id is echoed into logs and headers, so only a short, plain token is accepted.
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createHttpAdapter(): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    logger: false,
    requestIdHeader: false,
    genReqId: (request: IncomingMessage) => {
      const offered = request.headers[REQUEST_ID_HEADER];
      return typeof offered === 'string' && ACCEPTABLE_REQUEST_ID.test(offered) ? offered : randomUUID();
    },
  });
  adapter.getInstance().addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  return adapter;
}

export function configureApp(app: NestFastifyApplication): OpenAPIObject {
  app.useLogger(app.get(Logger));
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health'] });
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
  const document = createOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
  return document;
}

export function createOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Users and Posts API')
    .setDescription('REST API for users and their posts, on NestJS, Sequelize and PostgreSQL.')
    .setVersion('1.0.0')
    .build();
  return SwaggerModule.createDocument(app, config);
}
