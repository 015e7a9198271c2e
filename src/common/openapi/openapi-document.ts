/**
 * The OpenAPI document: what the controllers' decorators say, plus what every operation shares but no decorator
 * can say (the global error body, the request-id header, the statuses raised below the controllers).
 */
import { STATUS_CODES } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BEARER_SCHEME } from '../access/actor';
import { DocumentBuilder, type OpenAPIObject, type ParameterObject, type ResponseObject, type SchemaObject, SwaggerModule } from '@nestjs/swagger';

const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);
const CONNECTION_STATUSES = new Set(['408', '431']);

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
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'An access token from POST /api/v1/auth/login, /register or /refresh',
      },
      BEARER_SCHEME,
    )
    .addTag('auth', 'Accounts and login sessions: register, log in, refresh, log out')
    .addTag('users', 'Users, their posts, statistics and atomic multi-row writes')
    .addTag('posts', 'Posts, each written by a live user')
    .addTag('audit', 'The audit trail: every change to every resource, for admins')
    .addTag('comments', 'Comments, each belonging to a post, written by users')
    .addTag('tags', 'Tags')
    // generator: tags (npm run generate -- module <name> adds its tag above this line)
    .addTag('health', 'Probes for orchestrators: liveness, and readiness (database, migrations, shutdown); not versioned, outside /api')
    .build();
  // DocumentBuilder always emits `contact: {}` and a license `url`; there is neither to give.
  delete config.info.license?.url;
  delete config.info.contact;
  // The HTTP layer's own limits, as configured: Fastify answers 413 beyond the body limit and 414 for a path
  // parameter longer than maxParamLength (find-my-way's limit, 100 by default).
  const { bodyLimit = 1024 * 1024, maxParamLength = 100 } = app.getHttpAdapter().getInstance().initialConfig;
  return addSharedResponses(SwaggerModule.createDocument(app, config), { bodyLimit, maxParamLength });
}

/**
 * What every operation shares but no controller decorator says: the error body of the global filter, the
 * request-id header, and the statuses raised below the controllers (Fastify's router: 414; its body parsing: 400, 413, 415;
 * the database being unavailable or a transaction hitting a deadlock: 503 with Retry-After).
 */
function addSharedResponses(document: OpenAPIObject, limits: { bodyLimit: number; maxParamLength: number }): OpenAPIObject {
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
    'Idempotent-Replayed': {
      description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key (nothing was written this time)',
      required: false,
      schema: { type: 'string', enum: ['true'] },
    },
    ETag: {
      description:
        'The strong entity tag of this version of the resource: send it in If-Match to change it only if nobody else has, or in If-None-Match to read it only if it has changed. ' +
        'Absent when the representation embeds other resources (include=…), leaves fields out for this caller (a user seen by someone else), or the resource has no version (a tag: If-Match can only be *)',
      required: false,
      schema: { type: 'string', example: '"12.3"' },
    },
    'WWW-Authenticate': {
      description: 'The scheme to authenticate with: `Bearer realm="api"`, with `error="invalid_token"` when the token sent was refused',
      required: true,
      schema: { type: 'string' },
    },
  };

  for (const [path, pathItem] of Object.entries(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const) {
      const operation = pathItem[method];
      if (!operation) continue;
      const responses = operation.responses as Record<string, ResponseObject>;
      // Operations marked @Public() list "no credentials" as an option; every other one requires a bearer token.
      operation.security ??= [{ [BEARER_SCHEME]: [] }];
      const isPublic = operation.security.some((requirement) => Object.keys(requirement).length === 0);
      responses['401'] ??= {
        description: isPublic
          ? 'The access token sent is invalid, expired, or of an ended session (send none to read anonymously)'
          : 'No access token, or an invalid, expired one, or one of an ended session',
      };
      if (!isPublic) responses['403'] ??= { description: 'Authenticated, but not allowed to do this' };
      if (!path.startsWith('/health')) responses['429'] ??= { description: 'Too many requests from this client: retry after Retry-After seconds' };
      // Every request may carry a malformed query string; Fastify parses a body sent with any of these methods, an
      // operation that takes none included (a form posted to one is a 415).
      responses['400'] ??= { description: operation.requestBody ? 'Invalid or malformed body or query string' : 'Invalid query string or path parameter' };
      if (operation.requestBody || BODY_METHODS.has(method)) {
        responses['413'] ??= { description: `Body over ${limits.bodyLimit / 1024 / 1024} MiB` };
        responses['415'] ??= { description: 'Body not sent as UTF-8 application/json' };
      }
      responses['408'] ??= {
        description: 'The request was not received in time (headers, or headers and body, too slow); the connection is closed',
      };
      responses['431'] ??= { description: 'Request headers over 16 KiB; the connection is closed' };
      if (path.includes('{')) {
        responses['414'] ??= { description: `A path parameter longer than ${limits.maxParamLength} characters (the router's limit)` };
      }
      addConditionalResponses(operation.parameters as ParameterObject[] | undefined, responses);
      addIdempotencyResponses(operation.parameters as ParameterObject[] | undefined, responses);
      // Liveness does no I/O and is never shed: nothing can make it unavailable while the process serves.
      if (path !== '/health/live') {
        responses['503'] ??= { description: 'Database unavailable, or a transient conflict (deadlock, serialization failure): retry later' };
      }

      for (const [status, response] of Object.entries(responses)) {
        response.description ||= STATUS_CODES[Number(status)] ?? status;
        // 408 and 431 are answered for the connection, before there is a request: no request id.
        if (!CONNECTION_STATUSES.has(status)) {
          response.headers = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' }, ...response.headers };
        }
        if (Number(status) >= 400) {
          response.content ??= {
            'application/json': {
              schema: { $ref: '#/components/schemas/ErrorResponse' },
              example: { statusCode: Number(status), error: STATUS_CODES[Number(status)], message: response.description },
            },
          };
        }
        if (status === '503' || status === '429') response.headers!['Retry-After'] = { $ref: '#/components/headers/Retry-After' };
        if (status === '401') response.headers!['WWW-Authenticate'] = { $ref: '#/components/headers/WWW-Authenticate' };
      }
      operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
    }
  }
  return document;
}

/**
 * The answers of conditional requests (ConditionalRequestGuard), derived from the headers an operation takes:
 * If-None-Match → 304; If-Match → 412 (with the current ETag) and 428; either → the ETag header of its 200. An If-Match
 * whose one value is `*` (`Conditional('write', { untagged })`): a 412 without a tag, and no ETag on the 200.
 */
function addConditionalResponses(parameters: ParameterObject[] | undefined, responses: Record<string, ResponseObject>): void {
  const header = (name: string) => parameters?.find((parameter) => parameter.in === 'header' && parameter.name === name);
  const takes = (name: string) => header(name) !== undefined;
  const etag = { $ref: '#/components/headers/ETag' };
  if (!takes('If-None-Match') && !takes('If-Match')) return;
  const schema = header('If-Match')?.schema as { enum?: unknown[] } | undefined;
  if (schema?.enum?.length === 1 && schema.enum[0] === '*') {
    responses['412'] ??= { description: 'If-Match is not *: this resource has no entity tag to compare; nothing was written' };
    responses['428'] ??= { description: 'If-Match is required by this server (REQUIRE_IF_MATCH) and was not sent' };
    return;
  }
  if (responses['200']) responses['200'].headers = { ...responses['200'].headers, ETag: etag };
  if (takes('If-None-Match')) responses['304'] ??= { description: 'If-None-Match names the current ETag: the copy the caller holds is current (no body)', headers: { ETag: etag } };
  if (takes('If-Match')) {
    responses['412'] ??= { description: 'If-Match names no current ETag: the resource has changed (its current ETag is in the ETag header and the message); nothing was written', headers: { ETag: etag } };
    responses['428'] ??= { description: 'If-Match is required by this server (REQUIRE_IF_MATCH) and was not sent' };
  }
}

/** The answers of a POST that takes an Idempotency-Key (IdempotencyInterceptor): 409 and 422, and the replay header. */
function addIdempotencyResponses(parameters: ParameterObject[] | undefined, responses: Record<string, ResponseObject>): void {
  if (!parameters?.some((parameter) => parameter.in === 'header' && parameter.name === 'Idempotency-Key')) return;
  for (const status of ['200', '201']) {
    if (responses[status]) responses[status].headers = { ...responses[status].headers, 'Idempotent-Replayed': { $ref: '#/components/headers/Idempotent-Replayed' } };
  }
  const conflict = 'A request with this Idempotency-Key is still being processed';
  responses['409'] = { ...responses['409'], description: responses['409'] ? `${responses['409'].description}; or: ${conflict}` : conflict };
  const reused = 'The Idempotency-Key was used before for a different request (another body or route)';
  responses['422'] = { ...responses['422'], description: responses['422'] ? `${responses['422'].description}; or: ${reused}` : reused };
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
