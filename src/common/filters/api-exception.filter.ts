/**
 * The one place where errors become HTTP responses. Every body has the shape
 * `{ statusCode, error, message }` and never carries SQL, stacks or library names.
 */
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger, Optional } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseStatus } from '../../database/database-status';
import { MetricsService } from '../../observability/metrics.service';
import { InvalidTokenException } from '../access/access';
import { databaseFault, type DatabaseFault } from '../database/database-faults';
import { validationMessage } from '../database/validation-messages';
import { retryAfterSeconds } from '../http/retry-after';
import { StaleEntityTagException } from '../http/entity-tag';
import { STATUS_CODES } from 'node:http';
import { BaseError, DatabaseError, ForeignKeyConstraintError, OptimisticLockError, UniqueConstraintError, ValidationError } from 'sequelize';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
}

interface Mapped {
  status: number;
  message: string | string[];
}

// PostgreSQL SQLSTATEs that a client's input can cause.
const CLIENT_INPUT_CODES = new Set(['22001', '22003', '22007', '22008', '22P02', '22021', '22023', '23502', '23514', '54000']);

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(ApiExceptionFilter.name);

  // Optional: the filter also works where no DatabaseModule or ObservabilityModule is loaded (faults are then
  // classified, not tracked or counted).
  constructor(
    @Optional() private readonly databaseStatus?: DatabaseStatus,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    // The request id is named in log entries: no per-request logger context exists (see config/logger.config.ts,
    // which also trims a Sequelize error to its statement, once, without the bound values).
    const reqId = http.getRequest<FastifyRequest | undefined>()?.id;
    const recorded = this.databaseStatus?.recordFault(exception, reqId) ?? { fault: databaseFault(exception), log: true };
    const mapped = recorded.fault ? this.mapFault(recorded.fault) : this.map(exception);
    if (recorded.fault || exception instanceof BaseError) this.metrics?.databaseError(exception, recorded.fault?.kind);
    if (recorded.fault) {
      // The database's fault, not a bug: a warning, once per episode (the breaker logs outages itself).
      if (recorded.log) {
        this.logger.warn({ msg: `database fault answered 503: ${recorded.fault.kind}`, reqId, reason: recorded.fault.reason });
      }
    } else if (mapped.status >= 500 && mapped.status !== HttpStatus.SERVICE_UNAVAILABLE) {
      this.logger.error(exception instanceof Error ? { reqId, err: exception } : { reqId, thrown: String(exception) });
    }
    if (mapped.status === HttpStatus.SERVICE_UNAVAILABLE) {
      // Jittered, so clients turned away by the same fault do not all come back in the same second.
      void reply.header('Retry-After', String(retryAfterSeconds()));
    }
    // RFC 9110 §13.1.1: the client learns the tag its change must be based on.
    if (exception instanceof StaleEntityTagException) void reply.header('ETag', exception.currentTag);
    if (mapped.status === HttpStatus.UNAUTHORIZED) {
      // RFC 6750: say which scheme the API takes, and whether the token that was sent is the problem.
      void reply.header('WWW-Authenticate', exception instanceof InvalidTokenException ? 'Bearer realm="api", error="invalid_token"' : 'Bearer realm="api"');
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
    return { status, message };
  }

  private mapFault(fault: DatabaseFault): Mapped {
    const message = fault.kind === 'conflict' ? 'Temporary conflict, retry the request' : 'Database unavailable, retry later';
    return { status: HttpStatus.SERVICE_UNAVAILABLE, message };
  }

  private mapDatabase(exception: BaseError): Mapped {
    if (exception instanceof UniqueConstraintError) {
      const fields = Object.keys(exception.fields ?? {}).filter((field) => field !== 'deletedAt');
      return { status: HttpStatus.CONFLICT, message: fields.length ? `${fields.join(', ')} already in use` : 'Resource already exists' };
    }
    if (exception instanceof OptimisticLockError) {
      return { status: HttpStatus.CONFLICT, message: 'The resource was changed by another request: read it again and retry' };
    }
    if (exception instanceof ForeignKeyConstraintError) {
      return { status: HttpStatus.UNPROCESSABLE_ENTITY, message: 'A referenced resource does not exist' };
    }
    if (exception instanceof ValidationError) {
      return { status: HttpStatus.BAD_REQUEST, message: exception.errors.map((item) => validationMessage(item)) };
    }
    if (exception instanceof DatabaseError) {
      const code = (exception.parent as { code?: string } | undefined)?.code ?? '';
      if (CLIENT_INPUT_CODES.has(code)) {
        return { status: HttpStatus.BAD_REQUEST, message: 'Invalid input value' };
      }
    }
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, message: 'Internal server error' };
  }
}
