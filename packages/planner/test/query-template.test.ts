import { describe, expect, it } from 'vitest';
import { ExactNumber } from '../src/plan-types.js';
import { encodeSqlValue, renderQuery, renderRow, templateFromSql } from '../src/query-template.js';
import { decodeString, tokenize } from '../src/lexer.js';

describe('encodeSqlValue', () => {
  it('renders each value kind as a MySQL literal', () => {
    expect(encodeSqlValue(null)).toBe('NULL');
    expect(encodeSqlValue(9223372036854775807n)).toBe('9223372036854775807');
    expect(encodeSqlValue(-18446744073709551615n)).toBe('-18446744073709551615');
    // A JS number is a DOUBLE: exponent form, so MariaDB reads a DOUBLE, not an exact DECIMAL.
    expect(encodeSqlValue(1.5)).toBe('1.5e0');
    expect(encodeSqlValue(1e21)).toBe('1e+21');
    expect(encodeSqlValue(new ExactNumber('1.50'))).toBe('1.50');
    expect(encodeSqlValue(new Uint8Array([0, 0xff, 0x1a]))).toBe("X'00FF1A'");
    expect(encodeSqlValue(new Uint8Array([]))).toBe("X''");
  });

  it('escapes hostile strings: quotes, backslashes, NUL, \\Z, newlines, multi-byte', () => {
    const hostile = "a'b\"c\\d\0e\x1af\ng\rh😀é'--; drop table t; \\'";
    const lit = encodeSqlValue(hostile);
    expect(lit).toBe("'a\\'b\\\"c\\\\d\\0e\\Zf\\ng\\rh😀é\\'--; drop table t; \\\\\\''");
    // The literal is one string token that decodes back to the original.
    const toks = tokenize(`select ${lit}`);
    expect(toks).toHaveLength(2);
    expect(decodeString(toks[1]!.text)).toBe(hostile);
  });

  it('refuses non-finite doubles', () => {
    expect(() => encodeSqlValue(Number.NaN)).toThrow(/non-finite/);
  });
});

describe('renderQuery', () => {
  it('fills scalar and list placeholders without re-parsing', () => {
    const t = templateFromSql('select * from t where a = :v1 and b in ::v2 and c = :v1');
    expect(t.parts).toEqual(['select * from t where a = ', { bind: 'v1' }, ' and b in ', { list: 'v2' }, ' and c = ', { bind: 'v1' }]);
    expect(renderQuery(t, { v1: "o'k", v2: [1n, 'x', null] })).toBe("select * from t where a = 'o\\'k' and b in (1, 'x', NULL) and c = 'o\\'k'");
  });

  it('fails with a named error on a missing bind var, never a silent NULL', () => {
    expect(() => renderQuery(templateFromSql('select :nope'), {})).toThrow(/missing bind variable: nope/);
  });
});

describe('renderRow', () => {
  it('reads $n binds by position from the row and other binds from the bind vars', () => {
    const t = { parts: ['(', { bind: '$0' }, ', ', { bind: '$1' }, ', ', { bind: 'v9' }, ', ', { bind: '$10' }, ', now())'] };
    const row = [5n, "it's", 'x', 'y', 'y', 'y', 'y', 'y', 'y', 'y', new Uint8Array([0, 255])];
    expect(renderRow(t, row, { v9: null })).toBe("(5, 'it\\'s', NULL, X'00FF', now())");
  });

  it('escapes exactly what quoteString escapes, and leaves plain strings as they are', () => {
    expect(renderRow({ parts: [{ bind: '$0' }] }, ['Zoë Ålice'], {})).toBe("'Zoë Ålice'");
    expect(renderRow({ parts: [{ bind: '$0' }] }, ['a\\b\0c\nd\re\x1af"g'], {})).toBe(`'a\\\\b\\0c\\nd\\re\\Zf\\"g'`);
  });

  it('names a missing row value instead of rendering nothing', () => {
    expect(() => renderRow({ parts: [{ bind: '$3' }] }, [1n], {})).toThrow(/\$3/);
  });
});
