import { describe, expect, it } from 'vitest';
import { splitStatements } from '../src/statement-splitter.js';

describe('splitStatements', () => {
  it('splits at top-level semicolons only', () => {
    expect(splitStatements("select 1; select 'a;b'; select `x;y` from t -- c;\n; select \"q\\\";\"")).toEqual([
      'select 1',
      "select 'a;b'",
      'select `x;y` from t -- c;',
      'select "q\\";"',
    ]);
  });

  it('keeps comments inside statements and drops empty fragments', () => {
    expect(splitStatements('/* a; b */ select 1;;  ; # only a comment;\n')).toEqual(['/* a; b */ select 1']);
    expect(splitStatements("select 'it''s; fine'")).toEqual(["select 'it''s; fine'"]);
    expect(splitStatements('')).toEqual([]);
  });
});
