import { buildMessage, isEmail, ValidateBy } from 'class-validator';

/** The one form in which emails are stored, compared and looked up: trimmed and lower-cased. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * class-validator's IsEmail, made safe for any string: its validator measures parts with `encodeURI`, which throws on
 * a lone UTF-16 surrogate (a 500 for `"email": "\ud800"`). Such a string is simply not an email address.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function IsEmailAddress(): PropertyDecorator {
  return ValidateBy({
    name: 'isEmail',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && !LONE_SURROGATE.test(value) && isEmail(value),
      defaultMessage: buildMessage((prefix) => `${prefix}$property must be an email`),
    },
  });
}
