import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { EMAIL_MAX_LENGTH, emailProblem, IsEmailAddress, normaliseEmail, toNormalisedEmail } from './email';

const MIXED = 'must not mix writing systems (such as Latin and Cyrillic) within one part';
const INVISIBLE = 'must not contain spaces, control or invisible characters';
const MARK = 'must not put combining marks on plain letters';
const QUOTED = 'must not be a quoted address';

describe('normaliseEmail', () => {
  it.each([
    ['ada@example.com', 'ada@example.com'],
    ['  ADA@Example.COM ', 'ada@example.com'],
    ['jose\u0301@example.com', 'jos\u00e9@example.com'],
    ['JOSE\u0301@EXAMPLE.COM', 'jos\u00e9@example.com'],
    ['JOS\u00c9@example.com', 'jos\u00e9@example.com'],
    ['\u00a0zoe@example.com\u3000', 'zoe@example.com'],
    ['ΑΒΓ@example.com', 'αβγ@example.com'],
  ])('%j becomes %j', (value, expected) => {
    expect(normaliseEmail(value)).toBe(expected);
  });

  it('gives both spellings of é one stored form', () => {
    expect(normaliseEmail('jose\u0301@example.com')).toBe(normaliseEmail('jos\u00e9@example.com'));
    expect(normaliseEmail('jose\u0301@example.com')).toHaveLength('jose@example.com'.length);
  });

  it('composes again after lower-casing: the Turkish dotted İ becomes i + U+0307, which has no composed form', () => {
    expect(normaliseEmail('\u0130da@example.com')).toBe('i\u0307da@example.com');
    // A capital that decomposes when lower-cased and composes again: Å (U+212B, the Ångström sign) → å.
    expect(normaliseEmail('\u212bsa@example.com')).toBe('\u00e5sa@example.com');
  });

  it('is idempotent', () => {
    for (const value of [' ADA@Example.COM', 'JOSE\u0301@x.io', '\u0130da@example.com', 'ΑΒΓ@EXAMPLE.com', 'straße@x.test', '\u0131stanbul@x.test', 'ΛΌΓΟΣ@x.test', 'λόγοσ@x.test', 'ǰ@x.test']) {
      expect(normaliseEmail(normaliseEmail(value))).toBe(normaliseEmail(value));
    }
  });

  // Lower-casing alone kept these apart: each pair was two accounts that print (nearly) alike.
  it.each([
    ['ß and ss', 'straße@x.test', 'strasse@x.test', 'strasse@x.test'],
    ['ß and upper-case SS', 'straße@x.test', 'STRASSE@X.TEST', 'strasse@x.test'],
    ['dotless ı and i', '\u0131stanbul@x.test', 'istanbul@x.test', 'istanbul@x.test'],
    ['dotless ı and I', '\u0131stanbul@x.test', 'ISTANBUL@x.test', 'istanbul@x.test'],
    ['final ς and σ', 'λόγο\u03c2@x.test', 'λόγο\u03c3@x.test', 'λόγο\u03c2@x.test'],
    ['final ς and capital Σ', 'λόγο\u03c2@x.test', 'ΛΌΓΟΣ@x.test', 'λόγο\u03c2@x.test'],
    ['long ſ and s', '\u017ftar@x.test', 'star@x.test', 'star@x.test'],
  ])('gives %s one form: %j and %j both become %j', (_case, one, other, expected) => {
    expect([normaliseEmail(one), normaliseEmail(other)]).toEqual([expected, expected]);
    expect(emailProblem(expected)).toBeNull();
  });

  it('folds the capital sharp s ẞ (U+1E9E) as it folds ß: STRAẞE is strasse, and normalising again changes nothing', () => {
    // Upper-casing leaves ẞ as it is and lower-casing makes it ß, which only a second pass would fold to ss: stored as
    // straße, the account would be another than strasse, and one that `straße` (which normalises to strasse) cannot reach.
    expect(normaliseEmail('STRA\u1e9eE@x.test')).toBe('strasse@x.test');
    expect(normaliseEmail('stra\u1e9ee@x.test')).toBe(normaliseEmail('straße@x.test'));
    expect(normaliseEmail(normaliseEmail('\u1e9e@x.test'))).toBe(normaliseEmail('\u1e9e@x.test'));
  });

  it('toNormalisedEmail normalises strings and leaves anything else for the type check', () => {
    expect(toNormalisedEmail({ value: ' A@B.io ' })).toBe('a@b.io');
    for (const value of [42, null, undefined, ['a@b.io']]) expect(toNormalisedEmail({ value })).toBe(value);
  });
});

describe('emailProblem', () => {
  it.each([
    ['plain ASCII', 'ada@example.com'],
    ['plus and dots', 'ada.lovelace+test@mail.example.co.uk'],
    ['a composed é', 'jos\u00e9@example.com'],
    ['Cyrillic only', 'почта@пример.рф'],
    ['Greek in the local part, Latin in the domain (each part one script)', 'αβγ@example.com'],
    ['Cyrillic in the local part, Latin in the domain', 'почта@example.com'],
    ['Chinese', '用户@例子.广告'],
    ['Latin with Han (allowed together in Japanese and Chinese)', 'tanaka田中@example.jp'],
    ['Latin with Hangul and Han', 'kim김金@example.kr'],
    ['Latin with Hiragana and Katakana', 'sato\u3055\u30c8\u30a6@example.jp'],
    ['a punycode domain', 'ada@xn--80ak6aa92e.com'],
    ['Devanagari, whose vowel signs are combining marks', 'नमस्ते@example.com'],
    ['Thai, with its combining vowels and tone marks', 'สวัสดี@example.com'],
    ['Hebrew with points', 'שָׁלוֹם@example.com'.normalize('NFKC')],
  ])('accepts %s', (_case, value) => {
    expect(emailProblem(value)).toBeNull();
  });

  it.each([
    ['a Cyrillic а among Latin letters', 'ad\u0430@example.com', MIXED],
    ['a Cyrillic а in a domain label', 'ada@ex\u0430mple.com', MIXED],
    ['a Cyrillic о in the top-level domain', 'ada@example.c\u043em', MIXED],
    ['a Greek ο among Latin letters', 'hell\u03bf@example.com', MIXED],
    ['Cyrillic with Han (not a mix any writing system uses)', '\u0430\u7530@example.com', MIXED],
    ['a zero-width space', 'ad\u200ba@example.com', INVISIBLE],
    ['a zero-width joiner', 'ad\u200da@example.com', INVISIBLE],
    ['a soft hyphen', 'ad\u00ada@example.com', INVISIBLE],
    ['a right-to-left override', 'ada\u202e@example.com', INVISIBLE],
    ['a space', 'ada lovelace@example.com', INVISIBLE],
    ['a no-break space', 'ada\u00a0@example.com', INVISIBLE],
    ['an ideographic space', 'ada\u3000x@example.com', INVISIBLE],
    ['NUL', 'ada@example.com\u0000', INVISIBLE],
    ['a tab', 'ada\t@example.com', INVISIBLE],
    ['a byte order mark', '\ufeffada@example.com', INVISIBLE],
    ['a private-use character', 'ada\ue000@example.com', INVISIBLE],
    ['i + U+0307 (a lower-cased Turkish İ)', 'i\u0307da@example.com', MARK],
    ['a decomposed é (not normalised first)', 'jose\u0301@example.com', MARK],
    ['a combining mark after a digit', 'ada1\u0332@example.com', MARK],
    ['a mark on a Latin letter outside ASCII: dotless ı + U+0307 (prints as i)', '\u0131\u0307stanbul@x.test', MARK],
    ['a mark on a Latin letter outside ASCII: dotless ȷ + U+0307 (prints as j)', '\u0237\u0307ohn@x.test', MARK],
    ['a mark on a Latin letter outside ASCII: ŋ + U+0301 (no composed form)', '\u014b\u0301@x.test', MARK],
    ['dotless ı + U+0338 (prints as a struck-through i)', '\u0131\u0338stanbul@x.test', MARK],
    ['a mark at the start of the local part', '\u0301user@x.test', MARK],
    ['a mark at the start of the domain', 'user@\u0301x.test', MARK],
    ['a mark at the start of a dot-separated part', 'ada.\u0301x@x.test', MARK],
    ['a mark at the start of a Devanagari part', '\u093fनम@example.com', MARK],
    ['a quoted local part', '"user"@x.test', QUOTED],
    ['a quoted local part with an @ inside', '"ada@home"@example.com', QUOTED],
    ['a quoted local part with escaped quotes', '"\\"\\""@example.com', QUOTED],
    ['no @', 'ada.example.com', 'must be an email address'],
    ['no top-level domain', 'ada@example', 'must be an email address'],
    ['two @', 'ada@@example.com', 'must be an email address'],
    ['an empty string', '', 'must be an email address'],
  ])('refuses %s', (_case, value, problem) => {
    expect(emailProblem(value)).toBe(problem);
  });

  it('refuses a lone surrogate before anything else looks at the string', () => {
    expect(emailProblem('a\ud800@example.com')).toBe('must not contain lone UTF-16 surrogates');
    expect(emailProblem('\udc00')).toBe('must not contain lone UTF-16 surrogates');
  });

  it('refuses after normalising what only normalising reveals: ı + U+0307 becomes i + U+0307', () => {
    for (const value of ['\u0131\u0307stanbul@x.test', '\u0130stanbul@x.test', '\u0131\u0338stanbul@x.test', '\u0237\u0307ohn@x.test', '\u0301user@x.test']) {
      expect([value, emailProblem(normaliseEmail(value))]).toEqual([value, MARK]);
    }
  });

  it('every look-alike of ada@example.com is either refused or normalised to it', () => {
    const lookAlikes = ['ADA@EXAMPLE.COM ', ' Ada@Example.com', 'ad\u0430@example.com', 'ad\u200ba@example.com', '\u0130da@example.com', 'ada@ex\u0430mple.com'];
    for (const value of lookAlikes) {
      const normal = normaliseEmail(value);
      expect([value, normal === 'ada@example.com' || emailProblem(normal) !== null]).toEqual([value, true]);
    }
  });
});

describe('IsEmailAddress on a DTO', () => {
  class Probe {
    @IsEmailAddress()
    readonly email!: string;
  }

  const check = (email: unknown) => {
    const probe = plainToInstance(Probe, { email });
    return { email: probe.email, errors: validateSync(probe).flatMap((error) => Object.values(error.constraints ?? {})) };
  };

  it('validates and keeps the normalised form', () => {
    expect(check('  JOSE\u0301@Example.COM ')).toEqual({ email: 'jos\u00e9@example.com', errors: [] });
  });

  it('validates after normalising: the Turkish İ is refused as the mark it lower-cases into', () => {
    expect(check('\u0130da@example.com')).toEqual({ email: 'i\u0307da@example.com', errors: [`email ${MARK}`] });
  });

  it('words each refusal with the reason', () => {
    expect(check('ad\u0430@example.com').errors).toEqual([`email ${MIXED}`]);
    expect(check('ad\u200ba@example.com').errors).toEqual([`email ${INVISIBLE}`]);
    expect(check('not-an-email').errors).toEqual(['email must be an email address']);
    expect(check(`${'a'.repeat(250)}@example.com`).errors).toEqual(expect.arrayContaining(['email must be between 1 and 254 characters long']));
    expect(check(42).errors).toEqual(expect.arrayContaining(['email must be a string']));
  });

  it(`accepts an address of ${EMAIL_MAX_LENGTH} characters (254, what the address format allows) and refuses one of 255`, () => {
    expect(EMAIL_MAX_LENGTH).toBe(254);
    const address = (length: number) => `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(length - 64 - 1 - 128 - 4)}.com`;
    expect(address(254)).toHaveLength(254);
    expect(check(address(254))).toEqual({ email: address(254), errors: [] });
    expect(address(255)).toHaveLength(255);
    expect(check(address(255)).errors).toEqual(expect.arrayContaining(['email must be between 1 and 254 characters long']));
  });

  it('refuses a quoted local part in its own words', () => {
    expect(check('"user"@x.test').errors).toEqual([`email ${QUOTED}`]);
  });

  it('stores ß, ı and a final σ folded, and validates the folded form', () => {
    expect(check('Straße@X.test')).toEqual({ email: 'strasse@x.test', errors: [] });
    expect(check('\u0131stanbul@x.test')).toEqual({ email: 'istanbul@x.test', errors: [] });
    expect(check('\u0131\u0307stanbul@x.test')).toEqual({ email: 'i\u0307stanbul@x.test', errors: [`email ${MARK}`] });
  });
});
