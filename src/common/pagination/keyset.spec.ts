import { col, fn, Op, where } from 'sequelize';
import { keysetWhere, keyValuesOf } from './keyset';

describe('keysetWhere', () => {
  it('keys in one direction: a row comparison on the aliased columns, so the index range is exact', () => {
    const ascending = keysetWhere([['id', 'ASC']], [7], 'Post');
    const descending = keysetWhere(
      [
        ['createdAt', 'DESC'],
        ['id', 'DESC'],
      ],
      ['2026-01-01T00:00:00.000Z', 3],
      'Post',
    );
    expect(ascending).toEqual(where(fn('ROW', col('Post.id')), Op.gt, fn('ROW', 7)));
    expect(descending).toEqual(where(fn('ROW', col('Post.createdAt'), col('Post.id')), Op.lt, fn('ROW', '2026-01-01T00:00:00.000Z', 3)));
  });

  it('mixed directions: the first key bounded on its own (the index range), then each key beyond with the ones before equal', () => {
    expect(
      keysetWhere(
        [
          ['title', 'ASC'],
          ['createdAt', 'DESC'],
          ['id', 'ASC'],
        ],
        ['b', '2026-01-01T00:00:00.000Z', 3],
        'Post',
      ),
    ).toEqual({
      [Op.and]: [
        { title: { [Op.gte]: 'b' } },
        {
          [Op.or]: [
            { title: { [Op.gt]: 'b' } },
            { title: 'b', createdAt: { [Op.lt]: '2026-01-01T00:00:00.000Z' } },
            { title: 'b', createdAt: '2026-01-01T00:00:00.000Z', id: { [Op.gt]: 3 } },
          ],
        },
      ],
    });
  });
});

describe('keyValuesOf', () => {
  it('takes the sort keys of a row in order, dates as ISO strings with milliseconds', () => {
    const row = { id: 4, title: 'x', createdAt: new Date('2026-05-06T07:08:09.123Z'), body: 'not a key' };
    expect(
      keyValuesOf(row, [
        ['createdAt', 'DESC'],
        ['title', 'ASC'],
        ['id', 'DESC'],
      ]),
    ).toEqual(['2026-05-06T07:08:09.123Z', 'x', 4]);
  });

  it('throws on a key a row lacks or holds null in: the sortable columns are NOT NULL', () => {
    expect(() => keyValuesOf({ id: 1, name: null }, [['name', 'ASC']])).toThrow(/name/);
    expect(() => keyValuesOf({ id: 1 }, [['name', 'ASC']])).toThrow(/name/);
  });
});
