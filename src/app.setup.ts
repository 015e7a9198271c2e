/**
 * HTTP-level setup shared by main.ts, the e2e harness and the OpenAPI generator,
 * so tests exercise exactly what production serves.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { VersioningType } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, type ResponseObject, type SchemaObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Logger, PinoLogger } from 'nestjs-pino';

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
    // The router rejects a malformed URL (400) or an over-long path parameter (414) before any hook or
    // exception filter runs: answered here with the request id and the API's error shape, not Fastify's.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const status = error.statusCode ?? 400;
      const message = status === 414 ? 'A path parameter is too long' : 'Malformed URL';
      void reply
        .header(REQUEST_ID_HEADER, request.id)
        .status(status)
        .send({ statusCode: status, error: STATUS_CODES[status] ?? 'Bad Request', message });
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
  logRequests(app);
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health'] });
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
  const document = createOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
  return document;
}

/**
 * One line per finished request at `info` (and below), as pino-http wrote them: `request completed`, or
 * `request errored` with an error for a 5xx; request id, method, path, status and time only. At `warn` and above
 * pino-http never wrote a request line, so no hook is registered at all: requests pay nothing for logging.
 */
function logRequests(app: NestFastifyApplication): void {
  const logger = PinoLogger.root;
  if (!logger?.isLevelEnabled('info')) return;
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request, reply, done) => {
      // Health probes arrive every few seconds and say nothing worth keeping.
      if (request.routeOptions.url !== '/health') {
        const entry = {
          reqId: request.id,
          req: { id: request.id, method: request.method, url: request.url },
          res: reply.raw,
          responseTime: Math.round(reply.elapsedTime),
        };
        if (reply.statusCode >= 500) logger.info({ ...entry, err: new Error(`failed with status code ${reply.statusCode}`) }, 'request errored');
        else logger.info(entry, 'request completed');
      }
      done();
    });
}

export function createOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Users and Posts API')
    .setDescription(
      'REST API for users and their posts, on NestJS, Sequelize and PostgreSQL.\n\n' +
        'Every error has the body `{ statusCode, error, message }` (`ErrorResponse`); every response carries an ' +
        '`X-Request-Id` header, echoing the caller\'s when it is a short plain token. Lists return ' +
        '`{ data, meta: { total, limit, offset } }`.',
    )
    .setVersion('1.0.0')
    .setLicense('UNLICENSED', '')
    // Relative: the document describes whichever server serves it (Swagger UI, generated clients given a base URL).
    .addServer('/', 'The server that serves this document')
    .addTag('users', 'Users, their posts, statistics and atomic multi-row writes')
    .addTag('posts', 'Posts, each written by a live user')
    .addTag('health', 'Liveness and database reachability (not versioned, outside /api)')
    .build();
  // The API has no authentication: said explicitly rather than left undefined.
  config.security = [];
  // DocumentBuilder always emits `contact: {}` and a license `url`; there is neither to give.
  delete config.info.license?.url;
  delete config.info.contact;
  // Fastify answers 414 for a path parameter longer than this (find-my-way's limit, 100 by default).
  const maxParamLength = app.getHttpAdapter().getInstance().initialConfig.maxParamLength ?? 100;
  return addSharedResponses(SwaggerModule.createDocument(app, config), maxParamLength);
}

/**
 * What every operation shares but no controller decorator says: the error body of the global filter, the
 * request-id header, and the statuses raised below the controllers (Fastify's router: 414; its body parsing: 400, 413, 415;
 * the database being unavailable or a transaction hitting a deadlock: 503 with Retry-After).
 */
function addSharedResponses(document: OpenAPIObject, maxParamLength: number): OpenAPIObject {
  const components = (document.components ??= {});
  components.schemas = { ...components.schemas, ErrorResponse: ERROR_RESPONSE_SCHEMA };
  components.headers = {
    ...components.headers,
    'X-Request-Id': {
      description: "The request's id: the caller's X-Request-Id when it is 1–128 of A-Z a-z 0-9 . _ : -, else a new UUID",
      required: true,
      schema: { type: 'string', minLength: 1, maxLength: 128 },
    },
    'Retry-After': { description: 'Seconds to wait before retrying', required: true, schema: { type: 'integer', minimum: 0 } },
  };

  for (const [path, pathItem] of Object.entries(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const) {
      const operation = pathItem[method];
      if (!operation) continue;
      const responses = operation.responses as Record<string, ResponseObject>;
      if (operation.requestBody) {
        responses['400'] ??= { description: 'Invalid or malformed body' };
        responses['413'] ??= { description: `Body over ${BODY_LIMIT_BYTES / 1024 / 1024} MiB` };
        responses['415'] ??= { description: 'Body not sent as application/json' };
      }
      if (path.includes('{')) {
        responses['414'] ??= { description: `A path parameter longer than ${maxParamLength} characters (the router's limit)` };
      }
      responses['503'] ??= { description: 'Database unavailable, or a transient conflict (deadlock, serialization failure): retry later' };

      for (const [status, response] of Object.entries(responses)) {
        response.description ||= STATUS_CODES[Number(status)] ?? status;
        response.headers = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' }, ...response.headers };
        if (Number(status) >= 400) {
          response.content ??= {
            'application/json': {
              schema: { $ref: '#/components/schemas/ErrorResponse' },
              example: { statusCode: Number(status), error: STATUS_CODES[Number(status)], message: response.description },
            },
          };
        }
        if (status === '503') response.headers['Retry-After'] = { $ref: '#/components/headers/Retry-After' };
      }
      operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
    }
  }
  return document;
}

/** The body ApiExceptionFilter sends for every error (and Fastify's own, which it also formats). */
const ERROR_RESPONSE_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'Every error: a 4xx for what the client sent, a 503 when it may retry',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer', minimum: 400, maximum: 599, example: 404 },
    error: { type: 'string', description: 'The HTTP reason phrase', example: 'Not Found' },
    message: {
      description: 'What went wrong: one sentence, or one message per invalid field',
      oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
      example: 'User 42 not found',
    },
  },
};
