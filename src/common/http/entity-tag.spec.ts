import { entityTag, entityTagOf, ifMatchHolds, noneMatchFails, parseTagCondition, withEntityTag } from './entity-tag';

describe('entity tags', () => {
  it('parses * and lists of strong and weak tags, with empty members and spaces; a comma inside a tag is part of it', () => {
    expect(parseTagCondition(' * ')).toEqual({ any: true });
    expect(parseTagCondition('"1.2"')).toEqual({ any: false, tags: [{ weak: false, opaque: '"1.2"' }] });
    expect(parseTagCondition(' W/"a" , ,"b,c",')).toEqual({
      any: false,
      tags: [
        { weak: true, opaque: '"a"' },
        { weak: false, opaque: '"b,c"' },
      ],
    });
  });

  it.each(['', ' ', ',', '1.2', '"1.2', '"a" "b"', '"a" junk', 'w/"a"', '*, "a"', '"a\u0000"'])('refuses %j', (field) => {
    expect(parseTagCondition(field)).toBeNull();
  });

  it('If-Match compares strongly, If-None-Match weakly', () => {
    const current = entityTag({ id: 12, version: 3 });
    expect(current).toBe('"12.3"');
    expect(ifMatchHolds(parseTagCondition('"12.3"')!, current)).toBe(true);
    expect(ifMatchHolds(parseTagCondition('W/"12.3"')!, current)).toBe(false);
    expect(ifMatchHolds(parseTagCondition('"12.2", "12.3"')!, current)).toBe(true);
    expect(ifMatchHolds(parseTagCondition('"12.2"')!, current)).toBe(false);
    expect(noneMatchFails(parseTagCondition('W/"12.3"')!, current)).toBe(true);
    expect(noneMatchFails(parseTagCondition('"12.4"')!, current)).toBe(false);
    expect(noneMatchFails(parseTagCondition('*')!, current)).toBe(true);
  });

  it('travels on a body without being serialised or compared', () => {
    const body = withEntityTag({ id: 12, title: 'T' }, { id: 12, version: 3 });
    expect(entityTagOf(body)).toBe('"12.3"');
    expect(JSON.stringify(body)).toBe('{"id":12,"title":"T"}');
    expect(body).toEqual({ id: 12, title: 'T' });
    expect(entityTagOf({ ...body })).toBeUndefined();
    expect(entityTagOf(null)).toBeUndefined();
  });
});
