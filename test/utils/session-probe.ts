/**
 * The auth guard's check of a token's login session (src/auth/auth.guard.ts → SessionsService.isLive): the one
 * statement a request with a bearer token adds, run before the request's transaction begins. Statement-count
 * tests of authenticated requests take it off with `afterSessionProbe` and go on counting what the route runs.
 */
import { LIVE_SESSION_SQL } from '../../src/sessions/sessions.repository';

/** The guard's statement, as the app sends it. */
export const SESSION_PROBE = LIVE_SESSION_SQL;

/**
 * The statements of one authenticated request after its session probe, which must be the first statement (so
 * outside the request's transaction: nothing has begun yet) and the only one of its kind.
 */
export function afterSessionProbe(statements: string[]): string[] {
  expect(statements[0]).toBe(SESSION_PROBE);
  expect(statements.filter((sql) => sql === SESSION_PROBE)).toHaveLength(1);
  return statements.slice(1);
}
