import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { charLength, IsProse, IsSingleLineText, LONE_SURROGATE, proseProblem, singleLineProblem, toTrimmedNfc } from './text';

const INVISIBLE = 'must not contain control or invisible formatting characters';
const SURROGATE = 'must not contain lone UTF-16 surrogates';
const PROSE_CONTROL = 'must not contain control characters other than tab and line breaks';

describe('charLength', () => {
  it.each([
    ['', 0],
    ['Ada', 3],
    ['é', 1],
    ['e\u0301', 2],
    ['😀', 1],
    ['😀'.repeat(20_000), 20_000],
    ['👩‍💻', 3],
    ['東京', 2],
  ])('%j has %i code points', (value, expected) => {
    expect(charLength(value)).toBe(expected);
  });

  it('counts what UTF-16 length does not: an astral character is one, not two', () => {
    expect('😀'.length).toBe(2);
    expect(charLength('a😀b')).toBe(3);
  });

  it('counts a lone surrogate as one (it is refused elsewhere, not miscounted)', () => {
    expect(charLength('a\ud800')).toBe(2);
  });
});

describe('LONE_SURROGATE', () => {
  it.each(['\ud800', '\udc00', 'a\ud83d', '\ude00a', '\udc00\ud800', '😀\ud800'])('finds one in %j', (value) => {
    expect(LONE_SURROGATE.test(value)).toBe(true);
  });

  it.each(['', 'plain', '😀', '\ud83d\ude00\ud83d\ude00', '👩‍💻'])('finds none in %j', (value) => {
    expect(LONE_SURROGATE.test(value)).toBe(false);
  });
});

describe('singleLineProblem', () => {
  it.each([
    ['a plain name', 'Ada Lovelace'],
    ['precomposed accents', 'José García'],
    ['decomposed accents', 'Jose\u0301'],
    ['CJK', '東京 太郎'],
    ['Arabic', 'محمد علي'],
    ['an emoji with zero-width joiners', '👩‍💻'],
    ['a family emoji', '👨‍👩‍👧'],
    ['a flag with a variation selector and a joiner', '🏳️‍🌈'],
    ['a skin-tone modifier', '👍🏽'],
    ['a skin-tone modifier before a joiner', '👩🏽‍💻'],
    ['punctuation and symbols', "O'Brien & Sons — 100% <b>"],
    ['an emoji with a variation selector (☺️, 2 code points)', '\u263a\ufe0f'],
    ['an emoji with a variation selector, then text', '\u263a\ufe0f Ada'],
    ['a combining mark after a letter', 'x\u0301'],
    ['Devanagari, whose vowel signs are combining marks', 'नमस्ते'],
    ['Thai with combining vowels', 'สวัสดี'],
    ['the last assigned characters of a plane (U+1FBF9, a digit)', 'Ada \u{1fbf9}'],
  ])('accepts %s', (_case, value) => {
    expect(singleLineProblem(value)).toBeNull();
  });

  it.each([
    ['U+0000 NUL', '\u0000'],
    ['U+0007 BEL', '\u0007'],
    ['U+0009 tab', '\t'],
    ['U+000A line feed', '\n'],
    ['U+001B ESC', '\u001b'],
    ['U+007F DEL', '\u007f'],
    ['U+0085 next line', '\u0085'],
    ['U+00AD soft hyphen', '\u00ad'],
    ['U+061C Arabic letter mark', '\u061c'],
    ['U+180E Mongolian vowel separator', '\u180e'],
    ['U+200B zero-width space', '\u200b'],
    ['U+200C zero-width non-joiner', '\u200c'],
    ['U+200E left-to-right mark', '\u200e'],
    ['U+200F right-to-left mark', '\u200f'],
    ['U+202A left-to-right embedding', '\u202a'],
    ['U+202E right-to-left override', '\u202e'],
    ['U+2028 line separator', '\u2028'],
    ['U+2029 paragraph separator', '\u2029'],
    ['U+2060 word joiner', '\u2060'],
    ['U+2066 left-to-right isolate', '\u2066'],
    ['U+2069 pop directional isolate', '\u2069'],
    ['U+FEFF byte order mark', '\ufeff'],
    ['U+E000 private use', '\ue000'],
    ['U+F0000 supplementary private use', '\u{f0000}'],
    ['U+E0001 language tag', '\u{e0001}'],
    // Not default-ignorable, but print as nothing (or as a box standing for nothing).
    ['U+2800 braille pattern blank', '\u2800'],
    ['U+FFFC object replacement character', '\ufffc'],
    ['U+0378 (unassigned)', '\u0378'],
    ['U+0530 (unassigned)', '\u0530'],
    ['U+2FFFF (a noncharacter, astral)', '\u{2ffff}'],
    ['U+FFFF (a noncharacter)', '\uffff'],
    ['U+FFFE (a noncharacter)', '\ufffe'],
    ['U+FDD0 (a noncharacter)', '\ufdd0'],
    ['U+FDEF (a noncharacter)', '\ufdef'],
    ['U+10FFFF (a noncharacter)', '\u{10ffff}'],
  ])('refuses %s inside a name', (_case, char) => {
    expect(singleLineProblem(`Ad${char}a`)).toBe(INVISIBLE);
    expect(singleLineProblem(`${char}Ada`)).toBe(INVISIBLE);
    expect(singleLineProblem(`Ada${char}`)).toBe(INVISIBLE);
  });

  it.each([
    ['between letters', 'a\u200db'],
    ['after an emoji with nothing after it', '👩\u200d'],
    ['before an emoji with nothing before it', '\u200d👩'],
    ['after a letter, before an emoji', 'a\u200d💻'],
    ['twice between emoji', '👩\u200d\u200d💻'],
  ])('refuses a zero-width joiner %s (it is allowed only inside an emoji sequence)', (_case, value) => {
    expect(singleLineProblem(value)).toBe(INVISIBLE);
  });

  it.each([
    ['two marks alone', '\u0301\u0301'],
    ['a mark before a letter', '\u0301x'],
    ['a single mark', '\u0301'],
    ['an enclosing mark (U+20DD) before a letter', '\u20ddA'],
    ['a Devanagari vowel sign before its letter', '\u093fन'],
    ['a spacing mark (U+0903)', '\u0903Ada'],
  ])('refuses a name that starts with a combining mark: %s', (_case, value) => {
    expect(singleLineProblem(value)).toBe('must not start with a combining mark');
  });

  it('names the lone surrogate first, whatever else is wrong', () => {
    expect(singleLineProblem('a\ud800b')).toBe(SURROGATE);
    expect(singleLineProblem('\u202e\udc00')).toBe(SURROGATE);
  });
});

describe('proseProblem', () => {
  it.each([
    ['tabs and line breaks', 'Line one\n\tindented\r\nline three\r'],
    ['emoji and joiners', '👩‍💻 wrote this'],
    ['bidi marks used inside right-to-left prose', 'שלום\u200f world'],
    ['a zero-width space (prose may wrap with it)', 'long\u200bword'],
    ['20,000 emoji', '😀'.repeat(20_000)],
  ])('accepts %s', (_case, value) => {
    expect(proseProblem(value)).toBeNull();
  });

  it.each([
    ['U+0000', '\u0000'],
    ['U+0007', '\u0007'],
    ['U+0008', '\u0008'],
    ['U+000B', '\u000b'],
    ['U+000C', '\u000c'],
    ['U+000E', '\u000e'],
    ['U+001F', '\u001f'],
    ['U+007F', '\u007f'],
    ['U+0085', '\u0085'],
    ['U+009F', '\u009f'],
  ])('refuses the control %s', (_case, char) => {
    expect(proseProblem(`ring the ${char} bell`)).toBe(PROSE_CONTROL);
  });

  it('refuses lone surrogates', () => {
    expect(proseProblem('text \ud800')).toBe(SURROGATE);
    expect(proseProblem('\udfff')).toBe(SURROGATE);
  });
});

describe('toTrimmedNfc', () => {
  it.each([
    ['  Ada  ', 'Ada'],
    ['Jose\u0301', 'José'],
    ['\u00a0\u3000Zoë\u2028', 'Zoë'],
    ['\ufeffBOM', 'BOM'],
    ['   ', ''],
  ])('%j becomes %j', (value, expected) => {
    expect(toTrimmedNfc({ value })).toBe(expected);
  });

  it('composes: the result is in NFC', () => {
    const result = toTrimmedNfc({ value: 'A\u030angstro\u0308m' }) as string;
    expect(result).toBe('\u00c5ngstr\u00f6m');
    expect(result.length).toBe('Angstrom'.length);
  });

  it.each([42, null, undefined, ['a'], { a: 1 }])('leaves %p alone for the type check to refuse', (value) => {
    expect(toTrimmedNfc({ value })).toBe(value);
  });
});

describe('IsSingleLineText and IsProse on a DTO', () => {
  class Probe {
    @IsSingleLineText(2, 5)
    readonly name!: string;

    @IsProse(1, 3)
    readonly body!: string;
  }

  const errorsFor = (input: Record<string, unknown>) =>
    validateSync(plainToInstance(Probe, { name: 'Ada', body: 'B', ...input })).flatMap((error) => Object.values(error.constraints ?? {}));

  it('trims and composes the name before measuring it: 5 code points after NFC pass', () => {
    const probe = plainToInstance(Probe, { name: '  Rene\u0301e ', body: 'B' });
    expect(probe.name).toBe('Renée');
    expect(validateSync(probe)).toEqual([]);
  });

  it('counts code points: five emoji pass, six do not', () => {
    expect(errorsFor({ name: '😀'.repeat(5) })).toEqual([]);
    expect(errorsFor({ name: '😀'.repeat(6) })).toEqual(['name must be between 2 and 5 characters long']);
  });

  it('a whitespace-only name fails on its length once trimmed', () => {
    expect(errorsFor({ name: '   \t ' })).toEqual(['name must be between 2 and 5 characters long']);
  });

  it('refuses a name whose first character, once trimmed, is a combining mark', () => {
    expect(errorsFor({ name: '  \u0301x ' })).toEqual(['name must not start with a combining mark']);
    expect(errorsFor({ name: '\u0301\u0301' })).toEqual(['name must not start with a combining mark']);
    // Composed on the way in: e + U+0301 is é, whose mark is no longer a character of its own.
    expect(errorsFor({ name: 'e\u0301x' })).toEqual([]);
  });

  it('says why the text is refused', () => {
    expect(errorsFor({ name: 'A\u202eb' })).toEqual([`name ${INVISIBLE}`]);
    expect(errorsFor({ name: 'A\u2800' })).toEqual([`name ${INVISIBLE}`]);
    expect(errorsFor({ body: 'a\u0007' })).toEqual([`body ${PROSE_CONTROL}`]);
    expect(errorsFor({ name: 42 })).toEqual(expect.arrayContaining(['name must be a string']));
  });

  it('does not trim prose', () => {
    const probe = plainToInstance(Probe, { name: 'Ada', body: ' \n ' });
    expect(probe.body).toBe(' \n ');
    expect(validateSync(probe)).toEqual([]);
  });
});
