import { describe, expect, it } from 'vitest';
import { decodeBits, decodeHex, decodeString, tokenize } from '../src/lexer.js';

const kinds = (sql: string) => tokenize(sql).map((t) => [t.kind, t.text]);

describe('tokenize', () => {
  it('splits identifiers, backtick identifiers, numbers and operators', () => {
    expect(kinds('select `a``b`, t.c from x where y<=>1.5e3 and z != -2')).toEqual([
      ['ident', 'select'], ['qident', '`a``b`'], ['punct', ','], ['ident', 't'], ['punct', '.'], ['ident', 'c'],
      ['ident', 'from'], ['ident', 'x'], ['ident', 'where'], ['ident', 'y'], ['punct', '<=>'], ['number', '1.5e3'],
      ['ident', 'and'], ['ident', 'z'], ['punct', '!='], ['punct', '-'], ['number', '2'],
    ]);
  });

  it('makes adjacent string literals one literal, as MySQL concatenates them', () => {
    expect(kinds(`select 'a' "b" 'it''s', _utf8mb4'x' 'y\\\\'`)).toEqual([
      ['ident', 'select'], ['string', "'abit\\'s'"], ['punct', ','], ['ident', '_utf8mb4'], ['string', "'xy\\\\'"],
    ]);
    const [, ab] = tokenize("select 'a' 'b' from t");
    expect([decodeString(ab!.text), ab!.start, ab!.end]).toEqual(['ab', 7, 14]);
  });

  it('knows hex and bit literals in both spellings, and identifiers starting with digits', () => {
    expect(kinds("0x0aF X'0A' b'101' 0b11 1abc 0xZZ")).toEqual([
      ['hex', '0x0aF'], ['hex', "X'0A'"], ['bit', "b'101'"], ['bit', '0b11'], ['ident', '1abc'], ['ident', '0xZZ'],
    ]);
  });

  it('keeps placeholders, bind vars, list bind vars, system and user variables', () => {
    expect(kinds('? :a ::lst @@session.sql_mode @@version @x @`y z` :=')).toEqual([
      ['placeholder', '?'], ['bind', ':a'], ['listBind', '::lst'], ['sysvar', '@@session.sql_mode'], ['sysvar', '@@version'],
      ['uservar', '@x'], ['uservar', '@`y z`'], ['punct', ':='],
    ]);
  });

  it('drops comments but keeps vt+ directives, hints and executable comments', () => {
    const toks = tokenize("select /* c */ /*vt+ QUERY_TIMEOUT_MS=5 */ /*+ MAX_EXECUTION_TIME(1) */ 1 # tail\n, 2 -- x\n/*!40101 x */");
    expect(toks.map((t) => t.kind)).toEqual(['ident', 'directive', 'verbatim', 'number', 'punct', 'number', 'verbatim']);
    expect(toks[3]!.spaceBefore).toBe(true);
  });

  it('does not treat -- without a following space as a comment', () => {
    expect(kinds('1--2')).toEqual([['number', '1'], ['punct', '-'], ['punct', '-'], ['number', '2']]);
  });

  it('ends a -- or # comment at a NUL, as MariaDB does: the NUL is then a token (a syntax error to the parser)', () => {
    expect(kinds('1 -- \0 x')).toEqual([['number', '1'], ['punct', '\0'], ['ident', 'x']]);
    expect(kinds('1 # \0\n, 2')).toEqual([['number', '1'], ['punct', '\0'], ['punct', ','], ['number', '2']]);
    // In a C-style comment a NUL is only a character.
    expect(kinds('1 /* \0 */ + 2')).toEqual([['number', '1'], ['punct', '+'], ['number', '2']]);
  });

  it('reports an unterminated string, identifier or comment as a 1064 syntax error', () => {
    for (const bad of ["select 'abc", 'select `abc', 'select /* x', 'select "a\\"']) {
      expect(() => tokenize(bad)).toThrowError(expect.objectContaining({ errno: 1064, sqlState: '42000' }));
    }
  });
});

describe('literal decoding', () => {
  it('applies every MySQL escape form', () => {
    expect(decodeString("'a\\0b\\'c\\\"d\\\\e\\nf\\rg\\th\\Zi\\bj\\%k\\_l\\qm'")).toBe('a\0b\'c"d\\e\nf\rg\th\x1ai\bj\\%k\\_lqm');
    expect(decodeString("'it''s'")).toBe("it's");
    expect(decodeString('"say ""hi"""')).toBe('say "hi"');
    expect(decodeString("'héllo 😀'")).toBe('héllo 😀');
  });

  it('decodes hex and bit literals to bytes', () => {
    expect([...decodeHex('0xABC')]).toEqual([0x0a, 0xbc]);
    expect([...decodeHex("X'00ff'")]).toEqual([0, 255]);
    expect([...decodeBits("b'101'")]).toEqual([5]);
    expect([...decodeBits('0b100000001')]).toEqual([1, 1]);
  });
});
