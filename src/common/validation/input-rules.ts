/**
 * Input bounds shared by the feature DTOs and pipes. They live with the list helpers
 * because ids and text also arrive as query parameters.
 */
import { applyDecorators } from '@nestjs/common';
import { IsString, Length, Matches, MaxLength, ValidateBy } from 'class-validator';

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

const isObjectItem = (item: unknown): boolean => item !== null && typeof item === 'object' && !Array.isArray(item);

/**
 * An array whose items are JSON objects, for arrays of nested DTOs: `[[]]`, `[1]` or `[null]` is a 400 that names
 * the first bad item instead of reaching a service as something that is not the DTO.
 */
export function IsArrayOfObjects(): PropertyDecorator {
  return ValidateBy({
    name: 'isArrayOfObjects',
    validator: {
      validate: (value: unknown) => Array.isArray(value) && value.every(isObjectItem),
      defaultMessage: (args) => {
        if (!Array.isArray(args?.value)) return `${args?.property} must be an array`;
        return `${args.property}.${args.value.findIndex((item) => !isObjectItem(item))} must be an object`;
      },
    },
  });
}
