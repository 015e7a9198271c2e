/**
 * Input bounds shared by the feature DTOs and pipes. They live with the list helpers
 * because ids and text also arrive as query parameters.
 */
import { Matches } from 'class-validator';

/** Ids are Postgres `serial` (int4) values. */
export const MAX_ID = 2_147_483_647;

/** Postgres text cannot hold NUL: rejected as input instead of failing in the database. */
export function HasNoNul(): PropertyDecorator {
  return Matches(/^[^\u0000]*$/, { message: '$property must not contain NUL characters' });
}
