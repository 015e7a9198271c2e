import { queryKind } from './query-observer';

describe('queryKind', () => {
  it.each([
    ['SELECT 1', 'SELECT'],
    ['  select "id" FROM users', 'SELECT'],
    ['(SELECT 1) UNION (SELECT 2)', 'SELECT'],
    ['INSERT INTO posts (title) VALUES ($1) RETURNING id', 'INSERT'],
    ['UPDATE users SET name = $1', 'UPDATE'],
    ['DELETE FROM sessions WHERE id = $1', 'DELETE'],
    ['START TRANSACTION;', 'BEGIN'],
    ['BEGIN', 'BEGIN'],
    ['COMMIT;', 'COMMIT'],
    ['ROLLBACK;', 'ROLLBACK'],
    ['SAVEPOINT "sp-1";', 'OTHER'],
    ['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;', 'OTHER'],
    ['WITH x AS (SELECT 1) SELECT * FROM x', 'OTHER'],
    ['', 'OTHER'],
    [undefined, 'OTHER'],
  ])('%j → %s', (sql, kind) => {
    expect(queryKind(sql)).toBe(kind);
  });
});
