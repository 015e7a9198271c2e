import { DatabaseError as PgDatabaseError } from 'pg';
import {
  ConnectionAcquireTimeoutError,
  ConnectionError,
  ConnectionRefusedError,
  ConnectionTimedOutError,
  DatabaseError,
  ForeignKeyConstraintError,
  TimeoutError,
  UniqueConstraintError,
  ValidationError,
} from 'sequelize';
import { databaseFault, questionsReachability } from './database-faults';

/** A server error as node-postgres builds it: with a SQLSTATE. */
function serverError(code: string, message = 'server said no'): DatabaseError {
  const error = new PgDatabaseError(message, 0, 'error');
  error.code = code;
  return new DatabaseError(Object.assign(error, { sql: 'SELECT 1', parameters: [] }));
}

/** A connection error as node-postgres raises it under a query (no SQLSTATE), as Sequelize wraps it. */
function clientError(message: string, code?: string): DatabaseError {
  return new DatabaseError(Object.assign(new Error(message), { sql: 'SELECT 1', parameters: [] }, code ? { code } : {}));
}

describe('databaseFault', () => {
  it.each([
    ['57014', 'timeout'],
    ['55P03', 'timeout'],
    ['25P03', 'timeout'],
    ['57P01', 'connection-lost'],
    ['57P02', 'connection-lost'],
    ['57P03', 'unreachable'],
    ['08006', 'connection-lost'],
    ['08003', 'connection-lost'],
    ['08001', 'unreachable'],
    ['53300', 'busy'],
    ['40001', 'conflict'],
    ['40P01', 'conflict'],
  ])('SQLSTATE %s is a %s fault', (code, kind) => {
    expect(databaseFault(serverError(code))).toEqual({ kind, reason: `${code} server said no` });
  });

  it.each([
    ['Connection terminated unexpectedly', undefined, 'connection-lost'],
    ['Connection terminated', undefined, 'connection-lost'],
    ['Client has encountered a connection error and is not queryable', undefined, 'connection-lost'],
    ['Query read timeout', undefined, 'no-answer'],
    ['read ECONNRESET', 'ECONNRESET', 'connection-lost'],
    ['write EPIPE', 'EPIPE', 'connection-lost'],
    ['read ETIMEDOUT', 'ETIMEDOUT', 'connection-lost'],
    ['connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED', 'unreachable'],
  ])('a pg connection error without SQLSTATE ("%s") is a fault', (message, code, kind) => {
    expect(databaseFault(clientError(message, code))).toMatchObject({ kind });
  });

  it('a connect that failed is "unreachable", whatever the cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(databaseFault(new ConnectionRefusedError(refused))).toEqual({ kind: 'unreachable', reason: 'ECONNREFUSED' });
    expect(databaseFault(new ConnectionTimedOutError(new Error('Connection timed out')))).toMatchObject({ kind: 'unreachable' });
    expect(databaseFault(new ConnectionError(new Error('Connection terminated due to connection timeout')))).toMatchObject({ kind: 'unreachable' });
    expect(databaseFault(new ConnectionError(Object.assign(new Error('reset'), { code: 'ECONNRESET' })))).toMatchObject({ kind: 'unreachable' });
  });

  it('a pool acquire time-out is a timeout, not an outage', () => {
    expect(databaseFault(new ConnectionAcquireTimeoutError(new Error('TimeoutError: ResourceRequest timed out')))).toEqual({
      kind: 'timeout',
      reason: 'pool acquire timeout',
    });
  });

  it("Sequelize's TimeoutError is a timeout", () => {
    expect(databaseFault(new TimeoutError(Object.assign(new Error('lock wait'), { sql: '' })))).toMatchObject({ kind: 'timeout' });
  });

  it('is not a fault: client input, constraints, validation, other server errors, bugs, HTTP errors', () => {
    expect(databaseFault(serverError('22P02', 'invalid input syntax'))).toBeUndefined();
    expect(databaseFault(serverError('42703', 'column does not exist'))).toBeUndefined();
    expect(databaseFault(serverError('P0001', 'raised by a trigger'))).toBeUndefined();
    expect(databaseFault(new UniqueConstraintError({}))).toBeUndefined();
    expect(databaseFault(new ForeignKeyConstraintError({}))).toBeUndefined();
    expect(databaseFault(new ValidationError('bad', []))).toBeUndefined();
    expect(databaseFault(clientError('Cannot read properties of undefined'))).toBeUndefined();
    expect(databaseFault(new Error('Connection terminated unexpectedly'))).toBeUndefined();
    expect(databaseFault(Object.assign(new Error('down'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(databaseFault(undefined)).toBeUndefined();
    expect(databaseFault('57014')).toBeUndefined();
  });
});

describe('questionsReachability', () => {
  it('is true for lost connections, unanswered queries and failed connects, false for bounds the server enforced', () => {
    expect(questionsReachability({ kind: 'unreachable', reason: '' })).toBe(true);
    expect(questionsReachability({ kind: 'connection-lost', reason: '' })).toBe(true);
    expect(questionsReachability({ kind: 'no-answer', reason: '' })).toBe(true);
    expect(questionsReachability({ kind: 'timeout', reason: '' })).toBe(false);
    expect(questionsReachability({ kind: 'busy', reason: '' })).toBe(false);
    expect(questionsReachability({ kind: 'conflict', reason: '' })).toBe(false);
  });
});
