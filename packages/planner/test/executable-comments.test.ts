import { describe, expect, it } from 'vitest';
import { applyExecutableComments } from '../src/executable-comments.js';

describe('applyExecutableComments', () => {
  it('leaves statements without one as they are (the same string)', () => {
    const sql = "select '/*' as a, `/*!x` from t /* plain */";
    expect(applyExecutableComments(sql)).toBe(sql);
    const inString = "select '/*!40101 not a comment */' as s";
    expect(applyExecutableComments(inString)).toBe(inString);
  });

  it('turns the body of a comment for version <= 80031 (or no version) into SQL, keeping every position', () => {
    const cases: [string, string][] = [
      ['/*!40101 SET NAMES utf8mb4 */', '         SET NAMES utf8mb4   '],
      ['/*! select 1 */', '    select 1   '],
      ['select /*!40001 SQL_NO_CACHE */ * from t', 'select          SQL_NO_CACHE    * from t'],
      ['START TRANSACTION /*!40100 WITH CONSISTENT SNAPSHOT */', 'START TRANSACTION          WITH CONSISTENT SNAPSHOT   '],
      ["/*!80031 SET @a = '*/' */", "         SET @a = '*/'   "],
    ];
    for (const [sql, applied] of cases) {
      expect(applyExecutableComments(sql)).toBe(applied);
      expect(applyExecutableComments(sql).length).toBe(sql.length);
    }
  });

  it('makes comments for newer versions and MariaDB-only ones ordinary comments', () => {
    expect(applyExecutableComments('select 1 /*!80032 , 2 */')).toBe('select 1 /* 80032 , 2 */');
    expect(applyExecutableComments('select 1 /*!100100 , 2 */')).toBe('select 1 /* 100100 , 2 */');
    expect(applyExecutableComments('/*M!100100 SET @@MAX_STATEMENT_TIME=0 */ select 1')).toBe('/*M!100100 SET @@MAX_STATEMENT_TIME=0 */ select 1');
  });

  it('skips comments and strings while looking for the end of a body, and leaves broken text to the lexer', () => {
    expect(applyExecutableComments("/*!40101 select '*/', 1 -- */\n */")).toBe("         select '*/', 1 -- */\n   ");
    const unterminated = '/*!40101 select 1';
    expect(applyExecutableComments(unterminated)).toBe(unterminated);
  });
});
