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
