import { describe, expect, it } from 'vitest';
import { nonUtf8LiteralsAsHex } from '../src/binary-string-literals.js';

const b = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const rewrite = (bytes: Buffer) => nonUtf8LiteralsAsHex(bytes)?.toString('utf8') ?? null;

describe('nonUtf8LiteralsAsHex', () => {
  it('writes a literal that is not UTF-8 as a hex literal of the bytes it denotes, after its introducer', () => {
    expect(rewrite(b("insert into t values (1, _binary'", [0xff, 0x00], "')"))).toBe("insert into t values (1, _binary X'FF00')");
    expect(rewrite(b('select _BINARY  "', [0xfe], '"'))).toBe("select _BINARY  X'FE'");
  });

  it('unescapes as MariaDB does: control escapes, quotes doubled or escaped, and \\% \\_ kept', () => {
    expect(rewrite(b("select _binary'", [0xff], "\\0\\n\\r\\t\\b\\Z\\\\\\'''\\\"\\%\\_\\q'"))).toBe(`select _binary X'${Buffer.from([0xff, 0, 0x0a, 0x0d, 0x09, 0x08, 0x1a, 0x5c, 0x27, 0x27, 0x22, 0x5c, 0x25, 0x5c, 0x5f, 0x71]).toString('hex').toUpperCase()}'`);
  });

  it('leaves UTF-8 literals, identifiers and comments as written', () => {
    expect(rewrite(b("select 'é', `a'b` from t where x = _binary'", [0x80], "' -- ' no\n# '\n/* ' */"))).toBe("select 'é', `a'b` from t where x = _binary X'80' -- ' no\n# '\n/* ' */");
  });

  it('returns null when nothing is rewritten or a literal does not end (the caller refuses the text)', () => {
    expect(rewrite(b('select 1'))).toBeNull();
    // Without _binary the bytes are characters of the client's (non-UTF-8) charset: refused.
    expect(rewrite(b("select '", [0xe9], "'"))).toBeNull();
    expect(rewrite(b("select my_binary'", [0xe9], "'"))).toBeNull();
    expect(rewrite(b("select _utf8mb4'", [0xe9], "'"))).toBeNull();
    expect(rewrite(b('select `', [0xff], '`'))).toBeNull();
    expect(rewrite(b("select '", [0xff]))).toBeNull();
    expect(rewrite(b('select 1 -- ', [0xff]))).toBeNull();
  });
});
