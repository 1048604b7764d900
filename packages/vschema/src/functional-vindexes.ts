import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { desBlock } from './des-block.js';
import { keyRangeFromPrefix, type KeyRange } from './key-range.js';
import { unicodeLooseKey } from './unicode-loose-key.js';
import type { VSchemaIssue } from './vschema-error.js';
import { VSchemaLookupError } from './vschema-error.js';
import type { FunctionalVindex } from './vindex-types.js';
import { comparedInteger, toBytes, toUint64, toUint64ForHash, uint64ToBytes, type VindexValue } from './vindex-values.js';
import { xxhash64Parts } from './xxhash64.js';

/*
 * Functional vindexes: keyspace id = f(value). Each follows the Vitess vindex of the same type in
 * go/vt/vtgate/vindexes/; the file named in each comment is the one whose tests are carried over
 * to test/functional-vindexes.test.ts.
 *
 * Concurrency rule for the module-level scratch buffers below (SCRATCH, XX): each is written and
 * read within one synchronous call, and JavaScript never interleaves calls, so sharing is safe.
 */

const TWO_64 = 1n << 64n;
const MIN_INT64 = -(1n << 63n);
const TWO_53 = 1n << 53n;
const MINUS_TWO_53 = -(1n << 53n);
const SCRATCH = new DataView(new ArrayBuffer(8));
const XX = new Uint32Array(2);

/** DES(zero key) of a uint64: Vitess's vhash. */
export function vhash(n: bigint): Uint8Array {
  SCRATCH.setBigUint64(0, n);
  const out = new Uint8Array(8);
  desBlock(SCRATCH.getUint32(0), SCRATCH.getUint32(4), out, 0);
  return out;
}

/** Inverse of vhash; throws for keyspace ids that are not 8 bytes. */
export function vunhash(ksid: Uint8Array): bigint {
  if (ksid.length !== 8) throw new VSchemaLookupError(`invalid keyspace id: ${Buffer.from(ksid).toString('hex')}`);
  const out = new Uint8Array(8);
  const dv = new DataView(ksid.buffer, ksid.byteOffset, 8);
  desBlock(dv.getUint32(0), dv.getUint32(4), out, 0); // the weak zero key: decrypt = encrypt
  return new DataView(out.buffer).getBigUint64(0);
}

/** The `hash` vindex map (hot path: no BigInt arithmetic, one 8-byte allocation for the result). */
export function hashMap(v: VindexValue): Uint8Array | null {
  if (typeof v === 'bigint') {
    if (v < TWO_53 && v > MINUS_TWO_53) {
      // Most ids: exact as a double, so the two 32-bit words come from Number arithmetic instead
      // of a BigInt store into a DataView (about twice as fast). Negative values keep their int64
      // two's-complement bits: floor division and ToUint32 both work modulo 2^32.
      const n = Number(v);
      const out = new Uint8Array(8);
      desBlock(Math.floor(n / 4294967296) >>> 0, n >>> 0, out, 0);
      return out;
    }
    if (v >= 0n) {
      if (v >= TWO_64) return null;
      SCRATCH.setBigUint64(0, v);
    } else {
      if (v < MIN_INT64) return null;
      SCRATCH.setBigInt64(0, v);
    }
  } else {
    const n = toUint64ForHash(v);
    if (n === undefined) return null;
    SCRATCH.setBigUint64(0, n);
  }
  const out = new Uint8Array(8);
  desBlock(SCRATCH.getUint32(0), SCRATCH.getUint32(4), out, 0);
  return out;
}

/** XXH64 of bytes, stored little-endian as Vitess does. */
export function xxhashBytes(data: Uint8Array): Uint8Array {
  xxhash64Parts(data, XX);
  const out = new Uint8Array(8);
  const lo = XX[1];
  const hi = XX[0];
  out[0] = lo; out[1] = lo >>> 8; out[2] = lo >>> 16; out[3] = lo >>> 24;
  out[4] = hi; out[5] = hi >>> 8; out[6] = hi >>> 16; out[7] = hi >>> 24;
  return out;
}

export function md5Bytes(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('md5').update(data).digest());
}

function reverse32(x: number): number {
  x = ((x >>> 1) & 0x55555555) | ((x & 0x55555555) << 1);
  x = ((x >>> 2) & 0x33333333) | ((x & 0x33333333) << 2);
  x = ((x >>> 4) & 0x0f0f0f0f) | ((x & 0x0f0f0f0f) << 4);
  x = ((x >>> 8) & 0x00ff00ff) | ((x & 0x00ff00ff) << 8);
  return ((x >>> 16) | (x << 16)) >>> 0;
}

function reverseBits64(n: bigint): Uint8Array {
  SCRATCH.setBigUint64(0, n);
  const hi = SCRATCH.getUint32(0);
  const lo = SCRATCH.getUint32(4);
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, reverse32(lo));
  dv.setUint32(4, reverse32(hi));
  return out;
}

type Hasher = (v: VindexValue) => Uint8Array | null;

/**
 * How a vindex type reads the values a query compares its column with (see mapCompared):
 * - `integer`: the value as a number (hash, numeric, reverse_bits, numeric_static_map);
 * - `bytes`: the value's bytes (xxhash, binary, binary_md5, unicode_loose_*, cfc);
 * - `any`: every value maps alike (null).
 */
type ComparedAs = 'integer' | 'bytes' | 'any';

/**
 * Routing of a value that a query compares the vindex column with (`col = v`, `col IN (…)`), as
 * opposed to `map`, which is Vitess's conversion. A row lives at the keyspace id of the value it
 * was inserted with, and MariaDB on the shard decides which rows a compared value matches, so
 * `mapCompared` answers a keyspace id only when every value MariaDB would find equal to `value`
 * has that keyspace id; null means "not sure": the caller must ask every shard; 'none' means no
 * row can equal the value (3.5 on an integer vindex). `3.0`, `3e0` and `'3'` give the keyspace id
 * of 3; `' 3'`, `'3abc'` and `0x03` give null (Vitess: no shard). Callers handle SQL NULL
 * themselves (it equals nothing).
 */
export interface ComparedMapping {
  /** `numberLiteral`: `value` is the text of a number literal with a fraction or exponent. */
  mapCompared(value: VindexValue, numberLiteral: boolean): Uint8Array | 'none' | null;
}

function comparedMapper(as: ComparedAs, map: Hasher): ComparedMapping['mapCompared'] {
  if (as === 'any') return (v) => map(v);
  if (as === 'integer') {
    return (v, numberLiteral) => {
      const n = comparedInteger(v, numberLiteral);
      return n === undefined ? null : n === 'none' ? 'none' : map(n);
    };
  }
  // Bytes: strings and binary values are compared byte for byte on the string columns these
  // vindexes shard (collation aside, as in Vitess); integers render as their digits. A decimal or
  // double has no single text ('3.0' = '3.00' = 3e0), and a double above 2^53 no exact value.
  return (v, numberLiteral) => {
    if (numberLiteral) return null;
    if (typeof v === 'number') return Number.isSafeInteger(v) ? map(BigInt(v)) : null;
    return map(v);
  };
}

/** Per-type single-value hash functions ("Hashing" vindexes that multicol may compose). */
export const HASHERS: Readonly<Record<string, { hash: Hasher; cost: number }>> = {
  hash: { hash: hashMap, cost: 1 },
  xxhash: { hash: (v) => xxhashBytes(toBytes(v)), cost: 1 },
  numeric: { hash: (v) => { const n = toUint64(v); return n === undefined ? null : uint64ToBytes(n); }, cost: 0 },
  binary: { hash: (v) => Uint8Array.from(toBytes(v)), cost: 0 },
  binary_md5: { hash: (v) => md5Bytes(toBytes(v)), cost: 1 },
  unicode_loose_md5: { hash: (v) => md5Bytes(unicodeLooseKey(v === null ? '' : v instanceof Uint8Array ? v : String(v))), cost: 1 },
  unicode_loose_xxhash: { hash: (v) => xxhashBytes(unicodeLooseKey(v === null ? '' : v instanceof Uint8Array ? v : String(v))), cost: 1 },
  reverse_bits: { hash: (v) => { const n = toUint64(v); return n === undefined ? null : reverseBits64(n); }, cost: 1 },
};

interface Spec {
  type: string;
  /** How query values compare with the column (default: integer). */
  comparedAs?: ComparedAs;
  name: string;
  params: Readonly<Record<string, string>>;
  owner?: string;
  cost: number;
  unique?: boolean;
  testOnly?: boolean;
  columnCount?: number;
  map?: Hasher;
  mapColumns?: (values: readonly VindexValue[]) => Uint8Array | KeyRange | null;
  reverseMap?: (ksid: Uint8Array) => VindexValue;
  prefixRange?: (likePattern: string | Uint8Array) => KeyRange;
}

function build(spec: Spec): FunctionalVindex {
  const columnCount = spec.columnCount ?? 1;
  const multiColumn = spec.mapColumns !== undefined && spec.map === undefined;
  const name = spec.name;
  const map: Hasher =
    spec.map ??
    (() => {
      throw new VSchemaLookupError(`vindex ${name} (${spec.type}) is multi-column: call mapColumns`);
    });
  const mapColumns =
    spec.mapColumns ??
    ((values: readonly VindexValue[]) => {
      if (values.length !== 1) throw new VSchemaLookupError(`vindex ${name} takes exactly one column, got ${values.length}`);
      return map(values[0]);
    });
  const v: FunctionalVindex & ComparedMapping = {
    kind: 'functional',
    name,
    type: spec.type,
    unique: spec.unique ?? true,
    cost: spec.cost,
    params: spec.params,
    owner: spec.owner,
    testOnly: spec.testOnly ?? false,
    columnCount,
    multiColumn,
    map,
    mapColumns,
    mapCompared: comparedMapper(spec.comparedAs ?? 'integer', map),
    ...(spec.reverseMap ? { reverseMap: spec.reverseMap } : {}),
    ...(spec.prefixRange ? { prefixRange: spec.prefixRange } : {}),
  };
  return Object.freeze(v);
}

export interface FactoryArgs {
  type: string;
  name: string;
  params: Readonly<Record<string, string>>;
  owner?: string;
  /** JSON path of the vindex declaration, for issues. */
  path: string;
  issues: VSchemaIssue[];
}

type Factory = (a: FactoryArgs) => FunctionalVindex | undefined;

function simple(type: string, extra: Partial<Spec> = {}): Factory {
  const h = HASHERS[type];
  return (a) => build({ ...a, cost: h.cost, map: h.hash, ...extra });
}

function needLength8(what: string, ksid: Uint8Array): void {
  if (ksid.length !== 8) {
    throw new VSchemaLookupError(`${what}.ReverseMap: length of keyspaceId is not 8: ${ksid.length}`);
  }
}

const numericStaticMap: Factory = (a) => {
  let table: Map<bigint, bigint> | undefined;
  const raw = a.params.json ?? (a.params.json_path !== undefined ? readJsonFile(a) : undefined);
  if (raw === undefined) {
    if (a.params.json_path === undefined) {
      a.issues.push({ path: `${a.path}.params`, message: 'numeric_static_map needs a "json_path" (or inline "json") param' });
    }
    return undefined;
  }
  try {
    const obj = JSON.parse(raw) as Record<string, unknown>;
    table = new Map();
    for (const [k, val] of Object.entries(obj)) {
      if (!/^[0-9]+$/.test(k)) throw new Error(`key ${JSON.stringify(k)} is not an unsigned integer`);
      if (typeof val !== 'number' || !Number.isInteger(val) || val < 0) throw new Error(`value of ${k} is not an unsigned integer`);
      table.set(BigInt(k), BigInt(val));
    }
  } catch (e) {
    a.issues.push({ path: `${a.path}.params`, message: `numeric_static_map lookup table: ${(e as Error).message}` });
    return undefined;
  }
  let fallback: Hasher | undefined;
  const fb = a.params.fallback_type;
  if (fb !== undefined && fb !== '') {
    fallback = HASHERS[fb]?.hash;
    if (!fallback) a.issues.push({ path: `${a.path}.params.fallback_type`, message: `unknown fallback vindex type ${JSON.stringify(fb)}` });
  }
  const t = table;
  return build({
    ...a,
    cost: 1,
    map: (v) => {
      const n = toUint64(v);
      if (n === undefined) return null;
      const mapped = t.get(n);
      if (mapped !== undefined) return uint64ToBytes(mapped);
      return fallback ? fallback(v) : uint64ToBytes(n);
    },
  });
};

function readJsonFile(a: FactoryArgs): string | undefined {
  try {
    return readFileSync(a.params.json_path, 'utf8');
  } catch (e) {
    a.issues.push({ path: `${a.path}.params.json_path`, message: `cannot read ${a.params.json_path}: ${(e as Error).message}` });
    return undefined;
  }
}

const regionExperimental: Factory = (a) => {
  const rb = a.params.region_bytes;
  if (rb !== '1' && rb !== '2') {
    a.issues.push({
      path: `${a.path}.params.region_bytes`,
      message: rb === undefined ? 'region_experimental missing region_bytes param' : `region_bytes must be 1 or 2: ${rb}`,
    });
    return undefined;
  }
  const regionBytes = Number(rb);
  return build({
    ...a,
    cost: 1,
    columnCount: 2,
    mapColumns: (values) => {
      if (values.length === 0 || values.length > 2) return null;
      const rn = toUint64(values[0]);
      if (rn === undefined) return null;
      const r16 = Number(rn & 0xffffn);
      const prefix = regionBytes === 1 ? Uint8Array.of(r16 & 0xff) : Uint8Array.of(r16 >>> 8, r16 & 0xff);
      if (values.length === 1) return keyRangeFromPrefix(prefix);
      const hn = toUint64(values[1]);
      if (hn === undefined) return null;
      const out = new Uint8Array(prefix.length + 8);
      out.set(prefix, 0);
      out.set(vhash(hn), prefix.length);
      return out;
    },
  });
};

const multicol: Factory = (a) => {
  const count = Number(a.params.column_count);
  if (a.params.column_count === undefined) {
    a.issues.push({ path: `${a.path}.params`, message: "number of columns not provided in the parameter 'column_count'" });
    return undefined;
  }
  if (!Number.isInteger(count) || count < 1 || count > 8) {
    a.issues.push({ path: `${a.path}.params.column_count`, message: "number of columns should be between 1 and 8 in the parameter 'column_count'" });
    return undefined;
  }
  const byteStrs = a.params.column_bytes !== undefined ? a.params.column_bytes.split(',') : [];
  if (byteStrs.length > count) {
    a.issues.push({ path: `${a.path}.params.column_bytes`, message: "number of column bytes provided are more than column count in the parameter 'column_bytes'" });
    return undefined;
  }
  const columnBytes: (number | undefined)[] = new Array(count).fill(undefined);
  let used = 0;
  for (let i = 0; i < byteStrs.length; i++) {
    if (byteStrs[i] === '') continue;
    const b = Number(byteStrs[i]);
    if (!Number.isInteger(b)) {
      a.issues.push({ path: `${a.path}.params.column_bytes`, message: `not an integer: ${JSON.stringify(byteStrs[i])}` });
      return undefined;
    }
    columnBytes[i] = b;
    used += b;
  }
  let pending = columnBytes.filter((b) => b === undefined).length;
  let remaining = 8 - used;
  if (pending > remaining || remaining < 0) {
    a.issues.push({ path: `${a.path}.params.column_bytes`, message: "column bytes count exceeds the keyspace id length (total bytes count cannot exceed 8 bytes) in the parameter 'column_bytes'" });
    return undefined;
  }
  for (let i = 0; i < count && pending > 0; i++) {
    if (columnBytes[i] !== undefined) continue;
    const assign = Math.ceil(remaining / pending);
    columnBytes[i] = assign;
    remaining -= assign;
    pending--;
  }
  const vdxNames = a.params.column_vindex !== undefined ? a.params.column_vindex.split(',') : [];
  if (vdxNames.length > count) {
    a.issues.push({ path: `${a.path}.params.column_vindex`, message: "number of vindex function provided are more than column count in the parameter 'column_vindex'" });
    return undefined;
  }
  const hashers: Hasher[] = [];
  let cost = 0;
  for (let i = 0; i < count; i++) {
    const sel = (vdxNames[i] ?? '').trim() || 'hash';
    const h = HASHERS[sel];
    if (!h) {
      a.issues.push({
        path: `${a.path}.params.column_vindex`,
        message: `multicol vindex supports vindexes that exports hashing function, are unique and are non-lookup vindex, passed vindex '${sel}' is invalid`,
      });
      return undefined;
    }
    hashers.push(h.hash);
    cost += h.cost;
  }
  const bytes = columnBytes as number[];
  return build({
    ...a,
    cost,
    columnCount: count,
    mapColumns: (values) => {
      if (values.length === 0 || values.length > count) return null;
      const ksid: number[] = [];
      let minLength = 0;
      for (let i = 0; i < values.length; i++) {
        let h: Uint8Array | null;
        try {
          h = hashers[i](values[i]);
        } catch {
          h = null;
        }
        if (h === null || values[i] === null) return null;
        while (ksid.length < minLength) ksid.push(0);
        for (let r = 0; r < h.length && r < bytes[i]; r++) ksid.push(h[r]);
        minLength += bytes[i];
      }
      const out = Uint8Array.from(ksid);
      return values.length < count ? keyRangeFromPrefix(out) : out;
    },
  });
};

const SQL_DECODE: Record<string, number> = { '0': 0, "'": 0x27, '"': 0x22, b: 8, n: 10, r: 13, t: 9, Z: 26, '\\': 0x5c };

/** Prefix of a LIKE pattern up to its first unescaped % or _ (Vitess's cfc findPrefix). */
function likePrefix(pattern: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === 0x25 || c === 0x5f) break;
    if (c === 0x5c) {
      if (i === pattern.length - 1) {
        out.push(c);
        break;
      }
      const next = String.fromCharCode(pattern[i + 1]);
      out.push(SQL_DECODE[next] ?? pattern[i + 1]);
      i++;
      continue;
    }
    out.push(c);
  }
  return Uint8Array.from(out);
}

const cfc: Factory = (a) => {
  const h = a.params.hash ?? '';
  let hashFn: ((b: Uint8Array) => Uint8Array) | undefined;
  let offsets: number[] = [];
  if (h === 'md5') hashFn = md5Bytes;
  else if (h === 'xxhash64') hashFn = xxhashBytes;
  else if (h !== '') {
    a.issues.push({ path: `${a.path}.params.hash`, message: `invalid hash ${h} to CFC vindex ${a.name}` });
    return undefined;
  }
  if (hashFn) {
    const p = a.params.offsets ?? '';
    let parsed: unknown;
    try {
      parsed = p === '' ? undefined : JSON.parse(p);
    } catch {
      parsed = undefined;
    }
    const ok =
      Array.isArray(parsed) &&
      parsed.length > 0 &&
      parsed.every((n, i) => Number.isInteger(n) && n > 0 && (i === 0 || n > (parsed as number[])[i - 1]));
    if (p === '') {
      a.issues.push({ path: `${a.path}.params`, message: 'CFC vindex requires offsets when hash is defined' });
      return undefined;
    }
    if (!ok) {
      a.issues.push({ path: `${a.path}.params.offsets`, message: `invalid offsets ${p} to CFC vindex ${a.name}. expected sorted positive ints in brackets` });
      return undefined;
    }
    offsets = parsed as number[];
  }
  // Each component's hash is cut to the component's length (long keyspace ids slow range checks).
  const hashPart = (part: Uint8Array): Uint8Array => {
    const full = hashFn!(part);
    return part.length < full.length ? full.subarray(0, part.length) : full;
  };
  const computeKsid = (v: Uint8Array, prefix: boolean): Uint8Array => {
    if (!hashFn) return Uint8Array.from(v);
    const n = v.length;
    const last = offsets[offsets.length - 1];
    if (!prefix && n < last) {
      throw new VSchemaLookupError(`insufficient size for cfc vindex ${a.name}. need ${last}, got ${n}`);
    }
    const parts: Uint8Array[] = [];
    let prev = 0;
    let offset = 0;
    for (offset of offsets) {
      if (n < offset) return concat(parts);
      parts.push(hashPart(v.subarray(prev, offset)));
      prev = offset;
    }
    if (offset < n) parts.push(hashPart(v.subarray(offset, n)));
    return concat(parts);
  };
  return build({
    ...a,
    cost: 1,
    comparedAs: 'bytes',
    map: (v) => computeKsid(toBytes(v), false),
    prefixRange: (pattern) => {
      const bytes = typeof pattern === 'string' ? new TextEncoder().encode(pattern) : pattern;
      return keyRangeFromPrefix(computeKsid(likePrefix(bytes), true));
    },
  });
};

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Every functional vindex type shardgate knows, by vschema `type`. */
export const FUNCTIONAL_FACTORIES: Readonly<Record<string, Factory>> = {
  // hash.go / hash_test.go
  hash: simple('hash', { reverseMap: (ksid) => vunhash(ksid) }),
  // xxhash.go / xxhash_test.go
  xxhash: simple('xxhash', { comparedAs: 'bytes' }),
  // numeric.go / numeric_test.go
  numeric: simple('numeric', {
    reverseMap: (ksid) => {
      needLength8('Numeric', ksid);
      return new DataView(ksid.buffer, ksid.byteOffset, 8).getBigUint64(0);
    },
  }),
  // binary.go / binary_test.go
  binary: simple('binary', {
    comparedAs: 'bytes',
    reverseMap: (ksid) => Uint8Array.from(ksid),
  }),
  // binarymd5.go / binarymd5_test.go
  binary_md5: simple('binary_md5', { comparedAs: 'bytes' }),
  // unicodeloosemd5.go / unicodeloosemd5_test.go
  unicode_loose_md5: simple('unicode_loose_md5', { comparedAs: 'bytes' }),
  // unicodeloosexxhash.go / unicodeloosexxhash_test.go
  unicode_loose_xxhash: simple('unicode_loose_xxhash', { comparedAs: 'bytes' }),
  // reverse_bits.go / reverse_bits_test.go
  reverse_bits: simple('reverse_bits', {
    reverseMap: (ksid) => {
      if (ksid.length !== 8) throw new VSchemaLookupError(`invalid keyspace id: ${Buffer.from(ksid).toString('hex')}`);
      const r = reverseBits64(new DataView(ksid.buffer, ksid.byteOffset, 8).getBigUint64(0));
      return new DataView(r.buffer).getBigUint64(0);
    },
  }),
  // null.go / null_test.go: every value, NULL included, maps to the single byte 0x00.
  null: (a) => build({ ...a, cost: 100, comparedAs: 'any', map: () => Uint8Array.of(0) }),
  numeric_static_map: numericStaticMap,
  region_experimental: regionExperimental,
  multicol,
  cfc,
  // Vitess planbuilder test type (plan_test.go: hashIndex, unique, cost 1). Maps like `hash`, so
  // executor tests against the conformance vschema route rows as a real hash vindex would.
  hash_test: (a) => build({ ...a, cost: 1, testOnly: true, map: hashMap, reverseMap: (ksid) => vunhash(ksid) }),
  // Vitess planbuilder test type (multiColIndex: unique, cost 1, partial). Its Vitess Map returns
  // nothing, so shardgate's refuses to compute a keyspace id.
  multiCol_test: (a) =>
    build({
      ...a,
      cost: 1,
      testOnly: true,
      columnCount: 0, // takes the columns each table lists
      mapColumns: () => {
        throw new VSchemaLookupError(`vindex ${a.name} is Vitess's planner-test type multiCol_test and has no mapping`);
      },
    }),
};
