import { RequestMethod } from '@nestjs/common';
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
    // Health probes arrive every few seconds and say nothing worth keeping.
    exclude: [{ method: RequestMethod.ALL, path: 'health' }],
  };
}
