/**
 * Retry-After for a 503. Whole seconds (RFC 9110), drawn at random from a small range so that clients turned away by
 * the same fault do not all come back in the same second.
 */
import { randomInt } from 'node:crypto';

const MIN_SECONDS = 1;
const MAX_SECONDS = 3;

export function retryAfterSeconds(): number {
  return randomInt(MIN_SECONDS, MAX_SECONDS + 1);
}

export const RETRY_AFTER_RANGE = { min: MIN_SECONDS, max: MAX_SECONDS } as const;
