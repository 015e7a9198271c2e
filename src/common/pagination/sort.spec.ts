import { parseSort, toOrder } from './sort';

const FIELDS = ['id', 'name', 'createdAt'] as const;

describe('parseSort', () => {
  it('reads fields in order, "-" meaning descending, and appends id in the first key\'s direction', () => {
    expect(parseSort('-createdAt', FIELDS)).toEqual([
      ['createdAt', 'DESC'],
      ['id', 'DESC'],
    ]);
    expect(parseSort('name,-createdAt', FIELDS)).toEqual([
      ['name', 'ASC'],
      ['createdAt', 'DESC'],
      ['id', 'ASC'],
    ]);
  });

  it('does not add a second id key when id is already sorted on', () => {
    expect(parseSort('-id', FIELDS)).toEqual([['id', 'DESC']]);
    expect(parseSort('name,id', FIELDS)).toEqual([
      ['name', 'ASC'],
      ['id', 'ASC'],
    ]);
  });

  it.each([
    ['an unknown field', 'email'],
    ['a field named twice', 'name,-name'],
    ['an empty expression', ''],
    ['an empty key', 'name,,id'],
    ['a trailing comma', 'name,'],
    ['a double minus', '--name'],
    ['a plus sign', '+name'],
    ['whitespace', ' name'],
    ['SQL', 'name;DROP TABLE users'],
    ['a quoted identifier', '"name"'],
    ['a different case', 'Name'],
    ['an inherited property name', 'constructor'],
    ['too many keys', 'id,name,createdAt,id,name,createdAt'],
  ])('rejects %s', (_case, expression) => {
    expect(parseSort(expression, FIELDS)).toBeNull();
  });

  it('toOrder throws on what validation should have stopped', () => {
    expect(() => toOrder('nope', FIELDS)).toThrow(/nope/);
  });
});
