/**
 * Emails: one normal form, and one rule applied to it, on every path that takes an address (register, login,
 * user create/patch/bulk/with-posts, the list filter). The DTOs normalise first and validate the result, so what
 * is validated is what is stored and compared.
 *
 * Addresses that would print like another one are refused rather than stored as a second account: invisible
 * characters, a combining mark left on a plain letter (a Turkish dotted İ lower-cases to "i" + U+0307), and labels
 * that mix scripts (a Cyrillic "а" among Latin letters), following the "highly restrictive" level of Unicode
 * TS #39. Two spellings of one address (é precomposed or e + U+0301, full-width ａ or a) become one by NFKC.
 */
import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { buildMessage, isEmail, IsString, ValidateBy } from 'class-validator';
import { CharLength, LONE_SURROGATE } from './text';

/** What the address format allows (RFC 5321's path limit, as class-validator's isEmail checks it). */
export const EMAIL_MAX_LENGTH = 254;

/**
 * The one form in which emails are stored, compared and looked up: trimmed, NFKC and case-folded. NFKC rather than
 * plain NFC: it also folds compatibility look-alikes (full-width ａｄａ, the ligature ﬁ) into the letters they show.
 */
export function normaliseEmail(email: string): string {
  // Lower, upper, lower again folds what lower-casing alone keeps apart (ẞ and ß → ss, dotless ı → i, final ς → σ,
  // ſ → s), and is idempotent over every code point (checked: twice gives what once gives). Casing can decompose
  // (İ → i + U+0307), so normalise again after it.
  return email.trim().normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC');
}

/** For @Transform on an email property: normalises strings, leaves anything else for the type check. */
export const toNormalisedEmail = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? normaliseEmail(value) : value);

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}\p{Co}\p{Default_Ignorable_Code_Point}]/u;
// After NFKC a Latin letter has no mark left to carry (é is one code point): a mark on one, or on nothing at the
// start of a part, only draws a look-alike (ı + U+0307 is "i").
const MARK_ON_PLAIN_LETTER = /(?:^|[@.\u0000-\u007F\p{Script=Latin}])\p{M}/u;
const SCRIPTS = [
  'Latin', 'Greek', 'Cyrillic', 'Armenian', 'Georgian', 'Cherokee', 'Hebrew', 'Arabic', 'Syriac', 'Thaana',
  'Devanagari', 'Bengali', 'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala',
  'Thai', 'Lao', 'Tibetan', 'Myanmar', 'Khmer', 'Mongolian', 'Ethiopic', 'Hangul', 'Hiragana', 'Katakana', 'Bopomofo', 'Han',
].map((name) => ({ name, pattern: new RegExp(`\\p{Script=${name}}`, 'u') }));
/** The script mixes UTS #39 allows in one label besides a single script: Japanese, Chinese and Korean writing. */
const ALLOWED_MIXES = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

function scriptOf(letter: string): string {
  return SCRIPTS.find((script) => script.pattern.test(letter))?.name ?? `other:${letter}`;
}

function mixesScripts(label: string): boolean {
  const scripts = new Set<string>();
  for (const char of label) if (/\p{L}/u.test(char)) scripts.add(scriptOf(char));
  if (scripts.size <= 1) return false;
  return !ALLOWED_MIXES.some((allowed) => [...scripts].every((script) => allowed.has(script)));
}

/** Why a (normalised) string is not an acceptable address, or null when it is. */
export function emailProblem(value: string): string | null {
  if (LONE_SURROGATE.test(value)) return 'must not contain lone UTF-16 surrogates';
  if (INVISIBLE.test(value)) return 'must not contain spaces, control or invisible characters';
  if (MARK_ON_PLAIN_LETTER.test(value)) return 'must not put combining marks on plain letters';
  if (value.includes('"')) return 'must not be a quoted address';
  if (!isEmail(value)) return 'must be an email address';
  if (value.split(/[@.]/).some(mixesScripts)) return 'must not mix writing systems (such as Latin and Cyrillic) within one part';
  return null;
}

function EmailRule(): PropertyDecorator {
  return ValidateBy({
    name: 'isEmail',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && emailProblem(value) === null,
      defaultMessage: buildMessage((prefix, args) => `${prefix}$property ${emailProblem(String(args?.value)) ?? 'must be an email address'}`),
    },
  });
}

/** An email property: normalised (`normaliseEmail`), then at most 254 characters and an acceptable address. */
export function IsEmailAddress(): PropertyDecorator {
  return applyDecorators(Transform(toNormalisedEmail), IsString(), CharLength(1, EMAIL_MAX_LENGTH), EmailRule());
}
