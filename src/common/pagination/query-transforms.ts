/**
 * class-transformer helpers for query-string values, which arrive as strings
 * (or arrays when a parameter is repeated). Anything that is not exactly an
 * integer or `true`/`false` is left in a form the validators reject, so
 * `limit=1.5`, `limit=`, `limit=1e3` or `published=yes` become 400s instead of
 * being coerced into something the client did not ask for.
 */
import type { TransformFnParams } from 'class-transformer';

const INTEGER = /^-?\d+$/;

export function toInteger({ value }: TransformFnParams): unknown {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && INTEGER.test(value)) return Number(value);
  return Number.NaN;
}

export function toBoolean({ value }: TransformFnParams): unknown {
  if (value === 'true' || value === true) return true;
  if (value === 'false' || value === false) return false;
  // Not a boolean: keep the raw value so that @IsBoolean reports it.
  return value;
}
