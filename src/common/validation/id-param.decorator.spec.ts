import { MAX_ID } from './input-rules';
import { parseId } from './id-param.decorator';

const ALL = [`id must not be greater than ${MAX_ID}`, 'id must not be less than 1', 'id must be an integer number'];

describe('parseId', () => {
  it.each([
    ['1', 1],
    ['2147483647', 2147483647],
    ['007', 7],
  ])('accepts %s', (raw, expected) => {
    expect(parseId(raw)).toBe(expected);
  });

  // The messages class-validator gave for the IdParamDto this replaces, in its order.
  it.each([
    ['0', ['id must not be less than 1']],
    ['-1', ['id must not be less than 1']],
    ['-0', ['id must not be less than 1']],
    ['-99999999999999999999', ['id must not be less than 1']],
    ['2147483648', [`id must not be greater than ${MAX_ID}`]],
    ['99999999999999999999', [`id must not be greater than ${MAX_ID}`]],
    ['1.5', ALL],
    ['1e3', ALL],
    ['0x10', ALL],
    ['', ALL],
    [' 1', ALL],
    ['1 ', ALL],
    ['+1', ALL],
    ['abc', ALL],
    ['１', ALL],
  ])('rejects %j', (raw, messages) => {
    expect(parseId(raw)).toEqual(messages);
  });

  it('rejects a missing or non-string value', () => {
    expect(parseId(undefined)).toEqual(ALL);
    expect(parseId(['1'])).toEqual(ALL);
  });
});
