import type { Params } from 'nestjs-pino';
import { type LogLevel, NodeEnv } from './environment';

export function loggerParams(nodeEnv: NodeEnv, level: LogLevel): Params {
  const development = nodeEnv === NodeEnv.Development;
  // Request ids come from the HTTP adapter (see app.setup.ts); pino-http picks up `req.id`.
  return {
    pinoHttp: {
      level,
      transport: development ? { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } } : undefined,
      // Bodies and credentials never reach the logs: requests are logged by method, path and id only.
      serializers: {
        req: (request: { id: string; method: string; url: string }) => ({ id: request.id, method: request.method, url: request.url }),
        res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
      },
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token'], remove: true },
      quietReqLogger: true,
    },
    // No per-request middleware: it would run pino-http and an AsyncLocalStorage context for every request (promise
    // hooks on every promise), even at `warn` where it never writes a line. Requests are logged from a Fastify hook
    // instead (logRequests in app.setup.ts), and the one in-request log, the exception filter's, names its request id.
    forRoutes: [],
  };
}
