/**
 * Keyset ("seek") pagination: the next page starts after the sort key values of the previous page's last row, so it
 * costs the same at any depth (an index range scan where the sort has an index), and rows created or deleted between
 * two fetches never make a page skip or repeat one.
 * Every sort ends with `id` (sort.ts), so the key values name exactly one position.
 */
import { col, fn, Op, where, type WhereOptions } from 'sequelize';
import type { SortOrder } from './sort';

/** The sort key values of one row, in the order's order; dates as ISO strings (the columns keep milliseconds). */
export type KeyValues = ReadonlyArray<string | number>;

/**
 * The rows after `after` in `order`, on the table `alias` (the model's name, as Sequelize aliases it in a query).
 * - Keys all in one direction: a row comparison, `(k1, k2) < (v1, v2)`, which the planner reads as one index range
 *   (an exact Index Cond, whatever the depth).
 * - Mixed directions, which no row comparison expresses: `(k1 > v1) OR (k1 = v1 AND k2 < v2) OR …`, with the first key's
 *   bound on its own (`k1 >= v1`) for the index range.
 */
export function keysetWhere(order: SortOrder, after: KeyValues, alias: string): WhereOptions {
  const forward = order[0][1] === 'ASC';
  if (order.every(([, direction]) => direction === order[0][1])) {
    const row = (values: unknown[]) => fn('ROW', ...values);
    return where(row(order.map(([field]) => col(`${alias}.${field}`))), forward ? Op.gt : Op.lt, row([...after]));
  }
  const beyond = (index: number) => ({ [order[index][1] === 'ASC' ? Op.gt : Op.lt]: after[index] });
  const branches = order.map((_key, index) => {
    const branch: Record<string, unknown> = {};
    for (let equal = 0; equal < index; equal++) branch[order[equal][0]] = after[equal];
    branch[order[index][0]] = beyond(index);
    return branch;
  });
  return { [Op.and]: [{ [order[0][0]]: { [forward ? Op.gte : Op.lte]: after[0] } }, { [Op.or]: branches }] };
}

/** The sort key values of `row`, as a cursor carries them. */
export function keyValuesOf(row: Record<string, unknown>, order: SortOrder): KeyValues {
  return order.map(([field]) => {
    const value = row[field];
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'string' || typeof value === 'number') return value;
    // The sortable columns are NOT NULL strings, numbers and timestamps: anything else is a mistake in a module.
    throw new Error(`Sort key ${field} of a listed row is ${value === null ? 'null' : typeof value}`);
  });
}
