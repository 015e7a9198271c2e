/**
 * Input bounds shared by the feature DTOs and pipes. They live with the list helpers
 * because ids and text also arrive as query parameters.
 */
import { applyDecorators } from '@nestjs/common';
import { IsString, Length, Matches, MaxLength } from 'class-validator';

/** Ids are Postgres `serial` (int4) values. */
export const MAX_ID = 2_147_483_647;

/** Postgres text cannot hold NUL: rejected as input instead of failing in the database. */
export function HasNoNul(): PropertyDecorator {
  return Matches(/^[^\u0000]*$/, { message: '$property must not contain NUL characters' });
}

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/**
 * A password: a string of 12–128 characters (OWASP's minimum for a password without other composition rules;
 * the maximum keeps a hash request bounded). `checkLength: false` for a password being checked, not set.
 */
export function IsPassword(options: { checkLength?: boolean } = {}): PropertyDecorator {
  const length = options.checkLength === false ? MaxLength(PASSWORD_MAX_LENGTH) : Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH);
  return applyDecorators(IsString(), length, HasNoNul());
}
