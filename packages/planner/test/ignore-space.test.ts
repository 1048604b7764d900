import { describe, expect, it } from 'vitest';
import { ignoreSpaceBeforeCalls } from '../src/ignore-space.js';

describe('ignoreSpaceBeforeCalls (CLIENT_IGNORE_SPACE)', () => {
  it('joins a built-in function name to its parenthesis across blanks', () => {
    expect(ignoreSpaceBeforeCalls('select count (*), SUM\t(k), max\n  (k) from t')).toBe('select count(*), SUM(k), max(k) from t');
    expect(ignoreSpaceBeforeCalls('select substring (c, 2), now () from t where d > date_sub (now (), interval 1 day)')).toBe(
      'select substring(c, 2), now() from t where d > date_sub(now(), interval 1 day)',
    );
  });

  it('leaves everything else as sent', () => {
    for (const sql of [
      'select c from t where id = 1',
      'insert into t (a, b) values (1, 2)',
      'select concat (a, b) from t where id in (1, 2)', // not on MariaDB's list: spaces were never a problem
      "select 'count (*)' from t", // inside a string
      'select count /* why */ (*) from t', // MariaDB does not skip a comment there
      'select db.sum (a) from t', // after a dot: a stored function of db
      'select `count` (*) from t', // quoted: a name, not the function
      'select count(*) from t',
    ]) {
      expect(ignoreSpaceBeforeCalls(sql)).toBe(sql);
    }
  });
});
