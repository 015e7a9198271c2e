import pg from 'pg';
import { pgDialectModule } from './connection-options';

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
