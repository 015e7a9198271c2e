/**
 * The one place where errors become HTTP responses. Every body has the shape
 * `{ statusCode, error, message }` and never carries SQL, stacks or library names.
 */
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidTokenException } from '../access/access';
import { validationMessage } from '../database/validation-messages';
import { STATUS_CODES } from 'node:http';
import {
  BaseError,
  ConnectionError,
  DatabaseError,
  ForeignKeyConstraintError,
  TimeoutError,
  UniqueConstraintError,
  ValidationError,
} from 'sequelize';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
}

interface Mapped {
  status: number;
  message: string | string[];
  retryAfterSeconds?: number;
}

const RETRY_AFTER_SECONDS = 1;

// PostgreSQL SQLSTATEs that a client's input can cause, and transient failures worth a retry.
const CLIENT_INPUT_CODES = new Set(['22001', '22003', '22007', '22008', '22P02', '22021', '22023', '23502', '23514', '54000']);
const TRANSIENT_CODES = new Set(['40001', '40P01', '55P03', '57014', '53300', '57P01']);

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(ApiExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const mapped = this.map(exception);
    if (mapped.status >= 500) {
      // The request id is named here: no per-request logger context exists (see config/logger.config.ts, which also
      // trims a Sequelize error to its statement, once, without the bound values).
      const reqId = http.getRequest<FastifyRequest | undefined>()?.id;
      this.logger.error(exception instanceof Error ? { reqId, err: exception } : { reqId, thrown: String(exception) });
    }
    if (mapped.status === HttpStatus.UNAUTHORIZED) {
      // RFC 6750: say which scheme the API takes, and whether the token that was sent is the problem.
      void reply.header('WWW-Authenticate', exception instanceof InvalidTokenException ? 'Bearer realm="api", error="invalid_token"' : 'Bearer realm="api"');
    }
    if (mapped.retryAfterSeconds !== undefined) {
      void reply.header('Retry-After', String(mapped.retryAfterSeconds));
    }
    const body: ErrorBody = {
      statusCode: mapped.status,
      error: STATUS_CODES[mapped.status] ?? 'Error',
      message: mapped.message,
    };
    void reply.status(mapped.status).send(body);
  }

  private map(exception: unknown): Mapped {
    if (exception instanceof HttpException) return this.mapHttp(exception);
    if (exception instanceof BaseError) return this.mapDatabase(exception);
    const status = (exception as { statusCode?: unknown } | undefined)?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // A library error that carries a client status keeps it, with the status' own phrase as message (body parsing
      // errors never get here: Fastify answers them before the route, in the same shape).
      return { status, message: STATUS_CODES[status] ?? 'Bad request' };
    }
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, message: 'Internal server error' };
  }

  private mapHttp(exception: HttpException): Mapped {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? (response as { message: string | string[] }).message
        : exception.message;
    const retryAfterSeconds = status === HttpStatus.SERVICE_UNAVAILABLE ? RETRY_AFTER_SECONDS : undefined;
    return { status, message, retryAfterSeconds };
  }

  private mapDatabase(exception: BaseError): Mapped {
    if (exception instanceof UniqueConstraintError) {
      const fields = Object.keys(exception.fields ?? {}).filter((field) => field !== 'deletedAt');
      return { status: HttpStatus.CONFLICT, message: fields.length ? `${fields.join(', ')} already in use` : 'Resource already exists' };
    }
    if (exception instanceof ForeignKeyConstraintError) {
      return { status: HttpStatus.UNPROCESSABLE_ENTITY, message: 'A referenced resource does not exist' };
    }
    if (exception instanceof ValidationError) {
      return { status: HttpStatus.BAD_REQUEST, message: exception.errors.map((item) => validationMessage(item)) };
    }
    if (exception instanceof ConnectionError || exception instanceof TimeoutError) {
      return { status: HttpStatus.SERVICE_UNAVAILABLE, message: 'Database unavailable, retry later', retryAfterSeconds: RETRY_AFTER_SECONDS };
    }
    if (exception instanceof DatabaseError) {
      const code = (exception.parent as { code?: string } | undefined)?.code ?? '';
      if (TRANSIENT_CODES.has(code)) {
        return { status: HttpStatus.SERVICE_UNAVAILABLE, message: 'Temporary conflict, retry the request', retryAfterSeconds: RETRY_AFTER_SECONDS };
      }
      if (CLIENT_INPUT_CODES.has(code)) {
        return { status: HttpStatus.BAD_REQUEST, message: 'Invalid input value' };
      }
    }
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, message: 'Internal server error' };
  }
}
