import type { Params } from 'nestjs-pino';
import { type LogLevel, NodeEnv } from './environment';

/**
 * Nest's route-mapping lines name each route by its controller path: `/api/users` for `/api/v1/users` (no version)
 * and `/api/health` for `/health` (prefix exclusions ignored). They are dropped; app.setup.ts logs the routes as
 * Fastify registered them instead.
 */
const NEST_ROUTE_MAPPING_CONTEXTS = new Set(['RoutesResolver', 'RouterExplorer']);

/**
 * Errors as pino serializes them, minus what Sequelize's carry in excess: the statement three times (`sql`, and again
 * on `parent` and `original`, both the driver's error, whose `detail` can quote a row) and the bound values
 * (`parameters`: names, emails, password hashes). Kept: the statement once, and the driver's SQLSTATE as `code`.
 */
function serializeError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const { parameters: _parameters, parent, original: _original, ...kept } = error as Record<string, unknown>;
  const code = (parent as { code?: unknown } | undefined)?.code;
  return code === undefined ? kept : { ...kept, code };
}

/** pino-pretty is a development dependency: a production install that runs with NODE_ENV=development logs JSON. */
function prettyPrinterInstalled(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

export function loggerParams(nodeEnv: NodeEnv, level: LogLevel): Params {
  const development = nodeEnv === NodeEnv.Development;
  // Request ids come from the HTTP adapter (see app.setup.ts); pino-http picks up `req.id`.
  return {
    pinoHttp: {
      level,
      transport: development && prettyPrinterInstalled() ? { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } } : undefined,
      // Bodies and credentials never reach the logs: requests are logged by method, path and id only.
      serializers: {
        req: (request: { id: string; method: string; url: string }) => ({ id: request.id, method: request.method, url: request.url }),
        res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
        err: serializeError,
      },
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token'], remove: true },
      quietReqLogger: true,
      hooks: {
        logMethod(args, method) {
          const context = (args[0] as { context?: unknown } | null)?.context;
          if (typeof context === 'string' && NEST_ROUTE_MAPPING_CONTEXTS.has(context)) return;
          method.apply(this, args);
        },
      },
    },
    // No per-request middleware: it would run pino-http and an AsyncLocalStorage context for every request (promise
    // hooks on every promise), even at `warn` where it never writes a line. Requests are logged from a Fastify hook
    // instead (logRequests in app.setup.ts), and the one in-request log, the exception filter's, names its request id.
    forRoutes: [],
  };
}
