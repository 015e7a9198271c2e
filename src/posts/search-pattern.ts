/**
 * How a `q` search term becomes the patterns the posts table is searched with. Pure functions, shared by the Post
 * model's `matching` scope and the benchmark harness that EXPLAINs the same statements.
 */

/** A LIKE pattern matching `text` literally anywhere: `%`, `_` and `\` lose their meaning. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

/**
 * The part of a search term the trigram indexes look up. PostgreSQL prices a trigram index scan by the number of
 * trigrams in the pattern, so past a few dozen characters it prefers reading every post (with long bodies, slowly:
 * they are stored out of line). The first 32 characters are already very selective.
 */
const INDEXED_SEARCH_CHARS = 32;

export function indexedPiece(text: string): string {
  const chars = [...text];
  return chars.length <= INDEXED_SEARCH_CHARS ? text : chars.slice(0, INDEXED_SEARCH_CHARS).join('');
}
