/**
 * HTTP-level setup shared by main.ts, the e2e harness and the OpenAPI generator,
 * so tests exercise exactly what production serves.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { BadRequestException, UnsupportedMediaTypeException, VersioningType } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet from 'helmet';
import { Logger, PinoLogger } from 'nestjs-pino';
import { registerLoadShedding } from './common/http/load-shedding';
import { registerEntityTagHooks } from './common/http/entity-tag-hooks';
import { createOpenApiDocument } from './common/openapi/openapi-document';
import { Environment, type HttpLimits } from './config/environment';

export const API_PREFIX = 'api';
const DOCS_PATH = 'docs';
const BODY_LIMIT_BYTES = 1024 * 1024;

const REQUEST_ID_HEADER = 'x-request-id';
// A caller's id is echoed into logs and headers, so only a short, plain token is accepted.
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Options for every NestFactory.create / createNestApplication of this app. `bodyParser: false` keeps Nest from
 * registering its own parsers (it adds application/x-www-form-urlencoded); Fastify's JSON parser, with the body
 * limit above, is the only one.
 */
export const NEST_APP_OPTIONS = { bodyParser: false } as const;

/**
 * Security headers (helmet, built once: its middleware only sets headers on the raw response) on every answer. The
 * CSP lets Swagger UI at /docs load its scripts from this origin and style itself inline, and nothing else.
 */
const securityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
});

/** The headers every answer gets, router errors included (they are answered before any hook runs). */
function applyResponsePolicy(request: FastifyRequest, reply: FastifyReply): void {
  securityHeaders(request.raw, reply.raw, () => undefined);
  // API answers are per caller (tokens, emails, drafts): no shared or browser cache may keep them.
  if (!request.url.startsWith('/docs')) void reply.header('Cache-Control', 'no-store');
}

/** Every `charset` parameter of a Content-Type, with or without a value. */
const CHARSET = /;\s*charset\s*(?:=\s*"?([^";\s,]*))?/gi;

/**
 * The JSON parser: Fastify's own, fed only UTF-8. A body declared in another charset (or in several) is a 415; bytes
 * that are not UTF-8 are a 400 instead of being silently replaced by U+FFFD. `__proto__` and `constructor` keys are
 * kept as plain own properties (JSON.parse never sets a prototype) for RequestInputGuard to refuse by name, before
 * anything copies the body, rather than reported as "not valid JSON".
 */
function addJsonParser(instance: FastifyInstance): void {
  const parseJson = instance.getDefaultJsonParser('ignore', 'ignore');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  instance.removeContentTypeParser('application/json');
  instance.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const charsets = [...(request.headers['content-type'] ?? '').matchAll(CHARSET)].map((match) => (match[1] ?? '').toLowerCase());
    if (charsets.length > 1 || charsets.some((charset) => charset !== 'utf-8' && charset !== 'utf8')) {
      done(new UnsupportedMediaTypeException('Request bodies must be JSON in UTF-8: send charset=utf-8 or no charset'), undefined);
      return;
    }
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new BadRequestException('Request body is not valid UTF-8'), undefined);
      return;
    }
    parseJson(request, text, done);
  });
}

export function createHttpAdapter(
  options: { trustProxy?: boolean | string; limits?: HttpLimits; maxInFlightRequests?: number } = {},
): FastifyAdapter {
  // Without limits (the OpenAPI generator): the environment's defaults.
  const limits = options.limits ?? new Environment().httpLimits;
  const maxInFlightRequests = options.maxInFlightRequests ?? new Environment().MAX_IN_FLIGHT_REQUESTS;
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // Node answers 408 itself when headers, or the whole request, take longer than these; it checks every
    // connectionsCheckingInterval, so that is kept well below the shortest limit.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    trustProxy: options.trustProxy ?? false,
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
      applyResponsePolicy(request, reply);
      void reply
        .header(REQUEST_ID_HEADER, request.id)
        .status(status)
        .send({ statusCode: status, error: STATUS_CODES[status] ?? 'Bad Request', message });
    },
  });
  // Every body this API takes is JSON: without Fastify's default text/plain parser (and without Nest's
  // form parser, see NEST_APP_OPTIONS), any other content type is a 415.
  adapter.getInstance().removeContentTypeParser('text/plain');
  addJsonParser(adapter.getInstance());
  adapter.getInstance().server.maxConnections = limits.maxConnections;
  adapter.getInstance().addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    applyResponsePolicy(request, reply);
    done();
  });
  // After the hook above, so a shed request still carries its request id and the security headers.
  registerLoadShedding(adapter.getInstance(), maxInFlightRequests);
  registerEntityTagHooks(adapter.getInstance());
  return adapter;
}

export function configureApp(app: NestFastifyApplication): OpenAPIObject {
  app.useLogger(app.get(Logger));
  logRequests(app);
  logRoutes(app);
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health', 'health/*path', 'metrics'] });
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
  enableCors(app);
  const document = createOpenApiDocument(app);
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: `${DOCS_PATH}-json`,
    yamlDocumentUrl: `${DOCS_PATH}-yaml`,
    // No call to swagger.io's validator (the CSP would refuse it anyway); Authorize survives a page reload.
    swaggerOptions: { validatorUrl: null, persistAuthorization: true },
  });
  return document;
}

/** CORS only for the origins CORS_ORIGINS lists; without it browsers on other origins get no CORS headers at all. */
function enableCors(app: NestFastifyApplication): void {
  // The OpenAPI generator builds the app in preview mode, where providers are not instantiated: no CORS to set up there.
  const origins = (app.get(ConfigService, { strict: false }) as ConfigService<Environment, true> | null)?.get('CORS_ORIGINS', { infer: true });
  if (!origins) return;
  app.enableCors({
    origin: origins.split(','),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'WWW-Authenticate'],
    maxAge: 600,
  });
}

/**
 * One line per finished request at `info` (and below), as pino-http wrote them: `request completed`, or
 * `request errored` for a 5xx; request id, method, path, status and time only. A 5xx line carries no error: the
 * exception filter has logged it, once, at `error`. At `warn` and above pino-http never wrote a request line, so no
 * hook is registered at all: requests pay nothing for logging.
 */
function logRequests(app: NestFastifyApplication): void {
  const logger = PinoLogger.root;
  if (!logger?.isLevelEnabled('info')) return;
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request, reply, done) => {
      // Health probes arrive every few seconds and say nothing worth keeping.
      if (!request.routeOptions.url?.startsWith('/health')) {
        const entry = {
          reqId: request.id,
          req: { id: request.id, method: request.method, url: request.url },
          res: reply.raw,
          responseTime: Math.round(reply.elapsedTime),
        };
        logger.info(entry, reply.statusCode >= 500 ? 'request errored' : 'request completed');
      }
      done();
    });
}

/**
 * One `info` line per route once Fastify is ready, with the path it serves: version and prefix included, `/health`
 * without the prefix (Nest's own mapping lines show neither and are dropped, see config/logger.config.ts). Left out:
 * the HEAD route Fastify adds beside each GET, and Swagger UI's routes (the start-up banner names /docs).
 */
function logRoutes(app: NestFastifyApplication): void {
  const logger = PinoLogger.root;
  if (!logger?.isLevelEnabled('info')) return;
  const docs = new RegExp(`^/${DOCS_PATH}($|[/-])`);
  const routes: string[] = [];
  const instance = app.getHttpAdapter().getInstance();
  instance.addHook('onRoute', (route) => {
    if (docs.test(route.url)) return;
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push(`Mapped {${route.url}, ${method}} route`);
  });
  instance.addHook('onReady', (done) => {
    for (const route of routes) logger.info({ context: 'Routes' }, route);
    done();
  });
}
