/*
 * Conversions from the values the planner hands to vindexes into what Vitess's vindexes see.
 * They mirror go/sqltypes + evalengine semantics (ToUint64, ToBytes) so that a value maps to the
 * same keyspace id it would in VTGate:
 *   - integers arrive as bigint (signed or unsigned SQL integers alike),
 *   - strings as JS strings (the text of a quoted literal or of an exact decimal like "1.0"),
 *   - binary values as Uint8Array, NULL as null.
 */

/** A value a vindex maps. See the package README for how SQL types arrive. */
export type VindexValue = bigint | number | string | Uint8Array | null;

const TWO_64 = 1n << 64n;
const MIN_INT64 = -(1n << 63n);
const DECIMAL_INT = /^[+-]?[0-9]+$/;
const utf8 = new TextEncoder();
const latin1 = new TextDecoder('latin1');

function textOf(v: string | Uint8Array): string {
  return typeof v === 'string' ? v : latin1.decode(v);
}

/**
 * Vitess's newIntegralNumeric for non-integer-typed values: strconv.ParseInt, then ParseUint, both
 * base 10 and strict (no spaces, no decimals). Returns the parsed value or undefined.
 */
function parseIntegralText(s: string): bigint | undefined {
  if (!DECIMAL_INT.test(s)) return undefined;
  const n = BigInt(s);
  if (n < MIN_INT64 || n >= TWO_64) return undefined;
  // ParseUint does not accept a sign, ParseInt accepts + and -; "+18446744073709551615" fails both.
  if (n >= 1n << 63n && s[0] === '+') return undefined;
  return n;
}

/**
 * evalengine.ToUint64 (numeric, reverse_bits, region_experimental, numeric_static_map and the
 * "to" column of lookup_hash vindexes): negative numbers and non-integers do not convert.
 */
export function toUint64(v: VindexValue): bigint | undefined {
  if (v === null) return undefined;
  if (typeof v === 'bigint') return v >= 0n && v < TWO_64 ? v : undefined;
  if (typeof v === 'number') {
    return Number.isInteger(v) && v >= 0 && v < 2 ** 64 ? BigInt(v) : undefined;
  }
  const n = parseIntegralText(textOf(v));
  return n !== undefined && n >= 0n ? n : undefined;
}

/**
 * The `hash` vindex's conversion: signed integer values keep their int64 two's-complement bits
 * ("ToUint64 with no check on negative values", go/vt/vtgate/vindexes/hash.go), everything else goes
 * through ToUint64, so the string '-1' does not map while the integer -1 does.
 */
export function toUint64ForHash(v: VindexValue): bigint | undefined {
  if (typeof v === 'bigint') {
    if (v < 0n) return v >= MIN_INT64 ? v + TWO_64 : undefined;
    return v < TWO_64 ? v : undefined;
  }
  if (typeof v === 'number' && Number.isInteger(v) && v < 0) {
    return v >= -(2 ** 63) ? BigInt(v) + TWO_64 : undefined;
  }
  return toUint64(v);
}

/** A decimal literal's text: sign, integer digits, fraction digits (either may be empty, not both). */
const DECIMAL_LITERAL = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/;

/**
 * The integer n such that MariaDB's `col = v` and `col IN (…, v, …)` on an integer column hold for
 * col = n and for no other value, or undefined when shardgate cannot be sure (the caller then asks
 * every shard and lets MariaDB compare). `numberLiteral` says v is the text of a SQL number literal
 * with a fraction or an exponent (`3.0`, `3e0`), not a quoted string.
 *
 * Sure (checked against MariaDB 10.11):
 *   - integers;
 *   - decimal literals whose fraction is all zeros (`3.0`, `-1.00`): decimals compare exactly;
 *   - doubles (`3e0`, DOUBLE params) that are integers below 2^53 in magnitude. Above that, `=`
 *     converts the double to an integer while IN compares doubles, so `9007199254740993e0` matches
 *     other rows in the two forms;
 *   - quoted strings of decimal digits with an optional sign (`'3'`, `'-1'`, `'007'`), which
 *     MariaDB converts exactly at any length.
 * Equal to no integer, 'none': numbers with a nonzero fraction (`3.5`, `35e-1`, a DOUBLE param
 * 3.5). MariaDB compares them with an integer column exactly (decimals) or as doubles, and no
 * integer is 3.5. Answering 'none' rather than "not sure" matters: a query planned for one shard
 * (aggregates, ORDER BY … LIMIT pushed down whole) must not be sent to every shard.
 * Not sure: other strings (`' 3'`, `'3\n'`, `'3abc'` all equal 3, `'abc'` equals 0: MariaDB's
 * string-to-number rules are not copied here), binary values (`0x33` compares as 51 but `x'33'` as
 * the string '3').
 */
export function comparedInteger(v: VindexValue, numberLiteral = false): bigint | 'none' | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : Number.isFinite(v) && !Number.isInteger(v) ? 'none' : undefined;
  if (typeof v !== 'string') return undefined;
  if (!numberLiteral) return DECIMAL_INT.test(v) ? BigInt(v) : undefined;
  if (/[eE]/.test(v)) {
    // An approximate (double) literal: JavaScript and MariaDB both round its text to the nearest double.
    const d = Number(v);
    return Number.isSafeInteger(d) ? BigInt(d) : Number.isFinite(d) && !Number.isInteger(d) ? 'none' : undefined;
  }
  const m = DECIMAL_LITERAL.exec(v);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  if (m[3] !== undefined && /[1-9]/.test(m[3])) return 'none';
  return BigInt(m[1] + (m[2] === '' ? '0' : m[2]));
}

/** sqltypes Value.ToBytes: the raw bytes of the value's text form; NULL is empty. */
export function toBytes(v: VindexValue): Uint8Array {
  if (v === null) return new Uint8Array(0);
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return utf8.encode(v);
  return utf8.encode(String(v));
}

/** Big-endian 8 bytes of a uint64. */
export function uint64ToBytes(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}
