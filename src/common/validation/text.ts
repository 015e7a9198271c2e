/**
 * What text the API accepts, in one place: lengths counted as PostgreSQL counts them (code points), no lone UTF-16
 * surrogates anywhere, and for names and titles no control or invisible format characters, which would let two
 * strings that print the same (or a string that reorders its neighbours on screen) be stored as different values.
 */
import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { buildMessage, IsString, ValidateBy } from 'class-validator';

/** A high surrogate not followed by a low one, or a low one not preceded by a high one: not text in any encoding. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Controls, format characters (bidi embeddings, overrides and isolates, zero-width space and joiners, soft hyphen,
 * BOM), line/paragraph separators, private-use code points, and everything else Unicode says renders as nothing
 * (Default_Ignorable_Code_Point: Hangul fillers, the combining grapheme joiner, …). Two exceptions, which are how
 * emoji are spelled: a zero-width joiner inside an emoji sequence (👩‍💻), and a variation selector right after a
 * visible character (☺️).
 */
const HIDDEN_IN_A_LINE =
  /(?!(?<=\p{Extended_Pictographic}[\p{Emoji_Modifier}\uFE0F]?)\u200D(?=\p{Extended_Pictographic}))(?!(?<=[^\s\p{Default_Ignorable_Code_Point}])[\uFE00-\uFE0F\u{E0100}-\u{E01EF}])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Default_Ignorable_Code_Point}]/u;
/** Characters that print as nothing without being default-ignorable: braille blank, object replacement, unassigned and noncharacters. */
const BLANK_LOOKING = /[\u2800\uFFFC\p{Cn}]/u;
const LEADING_MARK = /^\p{M}/u;
/** In multi-line text (post bodies): controls other than tab, line feed and carriage return. */
const CONTROL_IN_PROSE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** Code points, as PostgreSQL's varchar(n) and char_length count them (not UTF-16 units, not graphemes). */
export function charLength(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

function withinLength(value: string, min: number, max: number): boolean {
  const length = charLength(value);
  return length >= min && length <= max;
}

const lengthMessage = (min: number, max: number): string => `must be between ${min} and ${max} characters long`;

/**
 * The DTOs' length rule for a model's `validate` (Sequelize's `len` uses validator.js, which does not count
 * variation selectors: `☺️` would be 1 there and 2 in the DTO and in PostgreSQL).
 */
export function lengthInCharacters(min: number, max: number): (value: unknown) => void {
  return (value: unknown) => {
    if (typeof value === 'string' && !withinLength(value, min, max)) throw new Error(lengthMessage(min, max));
  };
}

/** Why `value` is not acceptable as a single line of text (a name, a title), or null when it is. */
export function singleLineProblem(value: string): string | null {
  if (LONE_SURROGATE.test(value)) return 'must not contain lone UTF-16 surrogates';
  if (HIDDEN_IN_A_LINE.test(value) || BLANK_LOOKING.test(value)) return 'must not contain control or invisible formatting characters';
  if (LEADING_MARK.test(value)) return 'must not start with a combining mark';
  return null;
}

/** Why `value` is not acceptable as multi-line prose (a post body), or null when it is. */
export function proseProblem(value: string): string | null {
  if (LONE_SURROGATE.test(value)) return 'must not contain lone UTF-16 surrogates';
  if (CONTROL_IN_PROSE.test(value)) return 'must not contain control characters other than tab and line breaks';
  return null;
}

/** Trims and composes (NFC) a string; anything else is left for the type check to refuse. */
export const toTrimmedNfc = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.normalize('NFC').trim() : value);

export function CharLength(min: number, max: number, each = false): PropertyDecorator {
  return ValidateBy(
    {
      name: 'charLength',
      constraints: [min, max],
      validator: {
        validate: (value: unknown) => typeof value === 'string' && withinLength(value, min, max),
        defaultMessage: buildMessage((eachPrefix) => `${eachPrefix}$property ${lengthMessage(min, max)}`),
      },
    },
    { each },
  );
}

function TextRule(name: string, problem: (value: string) => string | null, each = false): PropertyDecorator {
  return ValidateBy(
    {
      name,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && problem(value) === null,
        defaultMessage: buildMessage((eachPrefix, args) => `${eachPrefix}$property ${problem(String(args?.value)) ?? 'is not valid text'}`),
      },
    },
    { each },
  );
}

/**
 * A name or a title: stored composed (NFC) and trimmed, `min`–`max` characters after that, with nothing invisible
 * in it. Whitespace alone trims to nothing and fails the length.
 */
export function IsSingleLineText(min: number, max: number): PropertyDecorator {
  return applyDecorators(Transform(toTrimmedNfc), IsString(), CharLength(min, max), TextRule('isSingleLineText', singleLineProblem));
}

/** A list of single-line texts (a post's tag names): each element trimmed, composed and checked as IsSingleLineText. */
export function IsSingleLineTextList(min: number, max: number): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => (Array.isArray(value) ? value.map((item: unknown) => toTrimmedNfc({ value: item })) : value)),
    IsString({ each: true }),
    CharLength(min, max, true),
    TextRule('isSingleLineText', singleLineProblem, true),
  );
}

/** Prose (a post body), stored as sent: `min`–`max` characters, tabs and line breaks but no other controls. */
export function IsProse(min: number, max: number): PropertyDecorator {
  return applyDecorators(IsString(), CharLength(min, max), TextRule('isProse', proseProblem));
}
