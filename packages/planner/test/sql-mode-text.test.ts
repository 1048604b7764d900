import { describe, expect, it } from 'vitest';
import { withDefaultQuoting } from '../src/sql-mode-text.js';

const ANSI = { ansiQuotes: true, pipesAsConcat: true };
const QUOTES = { ansiQuotes: true, pipesAsConcat: false };

describe('withDefaultQuoting', () => {
  it('writes a double-quoted name in backticks under ANSI_QUOTES, its doubled quotes undone and backticks doubled', () => {
    expect(withDefaultQuoting('select "a", "b""c", "d`e" from "t"', QUOTES)).toBe('select `a`, `b"c`, `d``e` from `t`');
    expect(withDefaultQuoting('select t."x" from t where "x" = \'y\'', ANSI)).toBe("select t.`x` from t where `x` = 'y'");
  });

  it('leaves strings, backtick names and comments alone, and reads executable comments as SQL', () => {
    for (const sql of ["select 'a\"b', 'it''s \"x\"', 'c\\'\"'", 'select `a"b`', 'select 1 # "x" ||', 'select 1 -- "x" ||\n', 'select /* "x" || */ 1']) {
      expect(withDefaultQuoting(sql, ANSI)).toBe(sql);
    }
    expect(withDefaultQuoting('select /*! "x" */ 1', QUOTES)).toBe('select /*! `x` */ 1');
    expect(withDefaultQuoting('select 1--"x"', QUOTES)).toBe('select 1--`x`');
  });

  it('leaves the text as it is without the flags, and an unclosed name to the planner', () => {
    expect(withDefaultQuoting('select "a" || "b"', { ansiQuotes: false, pipesAsConcat: false })).toBe('select "a" || "b"');
    expect(withDefaultQuoting('select "a', QUOTES)).toBe('select "a');
  });

  it('refuses || under PIPES_AS_CONCAT with 1235, but not in a string, a name or a comment', () => {
    expect(() => withDefaultQuoting("select 'a' || 'b'", ANSI)).toThrow(expect.objectContaining({ errno: 1235 }));
    expect(() => withDefaultQuoting('select a||b from t', { ansiQuotes: false, pipesAsConcat: true })).toThrow(expect.objectContaining({ errno: 1235 }));
    expect(withDefaultQuoting("select '||', \"a||b\" /* || */", ANSI)).toBe("select '||', `a||b` /* || */");
  });
});
