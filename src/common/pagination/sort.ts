/**
 * Sort expressions for list endpoints: `sort=-createdAt,name` means createdAt
 * descending, then name ascending. The result is a Sequelize `order` that always
 * ends with `id`, so rows with equal sort keys keep a stable order across pages.
 */
export type SortDirection = 'ASC' | 'DESC';
export type SortOrder<F extends string = string> = Array<[F | 'id', SortDirection]>;

export const DEFAULT_SORT = '-createdAt';
/** More keys than any table here has columns to sort on; bounds the work done per request. */
export const MAX_SORT_KEYS = 5;

const SORT_KEY = /^(-?)([A-Za-z]+)$/;

/**
 * Parses a sort expression against the allowed fields. Returns null when the
 * expression is invalid: unknown field, empty key, a field named twice, or too many keys.
 */
export function parseSort<F extends string>(expression: string, allowed: readonly F[]): SortOrder<F> | null {
  const keys = expression.split(',');
  if (keys.length > MAX_SORT_KEYS) return null;

  const order: SortOrder<F> = [];
  const seen = new Set<string>();
  for (const key of keys) {
    const match = SORT_KEY.exec(key);
    if (!match) return null;
    const [, minus, field] = match;
    if (!(allowed as readonly string[]).includes(field) || seen.has(field)) return null;
    seen.add(field);
    order.push([field as F, minus ? 'DESC' : 'ASC']);
  }

  // Tie-breaker in the direction of the primary key, so `-createdAt` lists newest first
  // even among rows created in the same millisecond.
  if (!seen.has('id')) order.push(['id', order[0][1]]);
  return order;
}

/** Like parseSort, for expressions already validated by the query DTO. */
export function toOrder<F extends string>(expression: string, allowed: readonly F[]): SortOrder<F> {
  const order = parseSort(expression, allowed);
  if (!order) throw new Error(`Unvalidated sort expression reached the service: ${expression}`);
  return order;
}
