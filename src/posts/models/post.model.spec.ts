import { containsPattern, indexedPiece } from '../search-pattern';

/** LIKE semantics with backslash as escape character (Postgres' default), to check patterns end to end. */
function like(text: string, pattern: string): boolean {
  let regex = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') regex += escapeRegex(pattern[++i] ?? '');
    else if (char === '%') regex += '.*';
    else if (char === '_') regex += '.';
    else regex += escapeRegex(char);
  }
  return new RegExp(`^${regex}$`, 's').test(text);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('containsPattern', () => {
  it('wraps the text in % and escapes %, _ and \\', () => {
    expect(containsPattern('plain')).toBe('%plain%');
    expect(containsPattern('50%_off\\now')).toBe('%50\\%\\_off\\\\now%');
  });

  it.each([
    ['100%', '100% sure', true],
    ['100%', '1000 sure', false],
    ['a_b', 'xa_by', true],
    ['a_b', 'aXb', false],
    ['C:\\t', 'C:\\temp', true],
    ['C:\\t', 'C:temp', false],
    ['\\', 'back\\slash', true],
    ['%', 'no percent', false],
  ])('%j matches %j literally: %s', (search, text, expected) => {
    expect(like(text, containsPattern(search))).toBe(expected);
  });
});

describe('indexedPiece', () => {
  it('keeps terms of up to 32 characters whole and cuts longer ones at 32 code points, never inside a surrogate pair', () => {
    expect(indexedPiece('short term')).toBe('short term');
    expect(indexedPiece('x'.repeat(32))).toBe('x'.repeat(32));
    expect(indexedPiece('y'.repeat(200))).toBe('y'.repeat(32));
    expect(indexedPiece('😀'.repeat(40))).toBe('😀'.repeat(32));
  });
});
