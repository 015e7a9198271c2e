import pg from 'pg';
import { validateEnvironment } from '../config/environment';
import { migrationConnectionOptions, pgConnectionOptions, pgDialectModule, UNBOUNDED_SESSION_OPTIONS } from './connection-options';

describe('pgDialectModule', () => {
  it('is node-postgres (types, Pool, …) with its Client swapped', () => {
    expect(pgDialectModule.types).toBe(pg.types);
    expect(pgDialectModule.Pool).toBe(pg.Pool);
    expect(new pgDialectModule.Client()).toBeInstanceOf(pg.Client);
  });

  it("a Client's 'error' event before anyone listens ends the client instead of throwing", async () => {
    // Plain pg: an 'error' with no listener is thrown (in a real process: an uncaught exception).
    expect(() => new pg.Client().emit('error', new Error('terminating connection due to administrator command'))).toThrow();
    const client = new pgDialectModule.Client();
    const end = jest.spyOn(client, 'end').mockImplementation((() => Promise.resolve()) as never);
    expect(() => client.emit('error', new Error('terminating connection due to administrator command'))).not.toThrow();
    expect(end).toHaveBeenCalledTimes(1);
  });
});

describe('pgConnectionOptions', () => {
  const limits = (env: Record<string, string> = {}) => validateEnvironment(env).databaseLimits;

  it('sends the server limits in the startup message, and with them Sequelize may SET its session defaults', () => {
    expect(pgConnectionOptions(limits())).toMatchObject({ statement_timeout: 5000, lock_timeout: 2000, idle_in_transaction_session_timeout: 10000, query_timeout: 6000 });
    expect(pgConnectionOptions(limits())).not.toHaveProperty('clientMinMessages');
  });

  it('behind a transaction pooler: no startup limits, no SET on connect; the client-side bound stays', () => {
    const pooled = pgConnectionOptions(limits({ DATABASE_POOLER: 'transaction' }));
    expect(pooled).not.toHaveProperty('statement_timeout');
    expect(pooled).not.toHaveProperty('lock_timeout');
    expect(pooled).not.toHaveProperty('idle_in_transaction_session_timeout');
    expect(pooled).toMatchObject({ query_timeout: 6000, clientMinMessages: 'ignore' });
  });

  it('migrations turn every server limit off, whatever the role says', () => {
    expect(migrationConnectionOptions(limits()).options).toBe(UNBOUNDED_SESSION_OPTIONS);
    expect(UNBOUNDED_SESSION_OPTIONS).toBe('-c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0');
  });
});
