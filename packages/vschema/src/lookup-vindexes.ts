import { md5Bytes, vhash, type FactoryArgs } from './functional-vindexes.js';
import { unicodeLooseKey } from './unicode-loose-key.js';
import { VSchemaLookupError } from './vschema-error.js';
import type { LookupDestination, LookupVindex } from './vindex-types.js';
import { toBytes, toUint64, type VindexValue } from './vindex-values.js';

/*
 * Lookup vindexes (go/vt/vtgate/vindexes/lookup.go, lookup_hash.go, consistent_lookup.go,
 * lookup_unicodeloosemd5_hash.go, lookup_internal.go). Semantics carried over:
 *   - params: table, from (comma-separated, trimmed), to are required; autocommit, write_only,
 *     ignore_nulls, batch_lookup, no_verify, multi_shard_autocommit are "true"/"false";
 *     read_lock is free text.
 *   - unique: 0 rows -> no shard, 1 row -> that keyspace id, more -> the query fails.
 *     non-unique: 0 rows -> no shard, n rows -> those keyspace ids.
 *   - write_only: the table is being backfilled, so every value maps to all shards.
 *   - lookup_hash* and lookup_unicodeloosemd5_hash* store a uint64 in `to` and the keyspace id is
 *     its hash; rows whose `to` is not a uint64 are skipped (unique: no shard).
 *   - lookup_unicodeloosemd5_hash* store in `from` the first 8 bytes (big-endian uint64) of
 *     md5(unicode_loose key) of the value.
 *   - owner: the table whose writes maintain the lookup rows (ColumnVindex.owned is set on it).
 * The SQL to read the table is Vitess's: `select <from0>, <to> from <table> where <from0> in ::<from0>`.
 */

interface LookupKind {
  unique: boolean;
  cost: number;
  consistent?: boolean;
  toEncoding?: 'keyspace_id' | 'hash';
  fromTransform?: (v: VindexValue) => VindexValue;
  testOnly?: boolean;
  /** Test-only types take cost / write_only from params and need no table (plan_test.go). */
  lenient?: boolean;
  costFromParams?: boolean;
  writeOnlyFromParams?: boolean;
}

const md5From = (v: VindexValue): VindexValue => {
  if (v === null) return null;
  const h = md5Bytes(unicodeLooseKey(v instanceof Uint8Array ? v : String(v)));
  return new DataView(h.buffer, h.byteOffset, 8).getBigUint64(0);
};

export const LOOKUP_KINDS: Readonly<Record<string, LookupKind>> = {
  lookup: { unique: false, cost: 20 },
  lookup_unique: { unique: true, cost: 10 },
  consistent_lookup: { unique: false, cost: 20, consistent: true },
  consistent_lookup_unique: { unique: true, cost: 10, consistent: true },
  lookup_hash: { unique: false, cost: 20, toEncoding: 'hash' },
  lookup_hash_unique: { unique: true, cost: 10, toEncoding: 'hash' },
  lookup_unicodeloosemd5_hash: { unique: false, cost: 20, toEncoding: 'hash', fromTransform: md5From },
  lookup_unicodeloosemd5_hash_unique: { unique: true, cost: 10, toEncoding: 'hash', fromTransform: md5From },
  // Vitess planbuilder test types (plan_test.go), planning metadata only.
  lookup_test: { unique: true, cost: 2, testOnly: true, lenient: true },
  name_lkp_test: { unique: false, cost: 3, testOnly: true, lenient: true },
  costly: { unique: false, cost: 10, testOnly: true, lenient: true },
  unq_lkp_test: { unique: false, cost: 0, testOnly: true, lenient: true, costFromParams: true, writeOnlyFromParams: true },
};

const BOOL_PARAMS = ['autocommit', 'write_only', 'ignore_nulls', 'batch_lookup', 'no_verify', 'multi_shard_autocommit'];

/** A lookup vindex declaration: the same arguments as a functional vindex's. */
export type LookupArgs = FactoryArgs;

export function createLookupVindex(a: LookupArgs): LookupVindex | undefined {
  const kind = LOOKUP_KINDS[a.type];
  const before = a.issues.length;
  const bools: Record<string, boolean> = {};
  for (const p of BOOL_PARAMS) {
    const v = a.params[p];
    if (v === undefined || v === '' || v === 'false') bools[p] = false;
    else if (v === 'true') bools[p] = true;
    else {
      bools[p] = false;
      if (!kind.lenient) a.issues.push({ path: `${a.path}.params.${p}`, message: `${p} value must be 'true' or 'false': '${v}'` });
    }
  }
  const table = a.params.table ?? '';
  const fromRaw = a.params.from;
  const to = a.params.to ?? '';
  if (!kind.lenient) {
    if (table === '') a.issues.push({ path: `${a.path}.params`, message: `lookup vindex ${a.name} needs a "table" param (the backing table, e.g. "ks.name_lookup")` });
    if (fromRaw === undefined || fromRaw.trim() === '') a.issues.push({ path: `${a.path}.params`, message: `lookup vindex ${a.name} needs a "from" param (comma-separated columns of the backing table)` });
    if (to === '') a.issues.push({ path: `${a.path}.params`, message: `lookup vindex ${a.name} needs a "to" param (the keyspace-id column of the backing table)` });
  }
  if (a.issues.length > before) return undefined;
  const from = fromRaw === undefined ? [] : fromRaw.split(',').map((s) => s.trim());
  let cost = kind.cost;
  if (kind.costFromParams && a.params.cost !== undefined) {
    const c = parseInt(a.params.cost, 10);
    cost = Number.isNaN(c) ? 0 : c;
  }
  const writeOnly = bools.write_only;
  const toEncoding = kind.toEncoding ?? 'keyspace_id';
  const unique = kind.unique;
  const name = a.name;
  const toKsid = (v: VindexValue): Uint8Array | null => {
    if (toEncoding === 'keyspace_id') return v === null ? null : Uint8Array.from(toBytes(v));
    const n = toUint64(v);
    return n === undefined ? null : vhash(n);
  };
  const from0 = from[0] ?? '';
  const destinationFor = (toValues: readonly VindexValue[]): LookupDestination => {
    if (writeOnly) return ALL_SHARDS;
    if (toValues.length === 0) return NONE;
    if (unique) {
      if (toValues.length > 1) {
        throw new VSchemaLookupError(`Lookup.Map: unexpected multiple results from vindex ${table || name}`);
      }
      const k = toKsid(toValues[0]);
      return k === null ? NONE : { kind: 'keyspaceIds', ksids: [k] };
    }
    const ksids: Uint8Array[] = [];
    for (const v of toValues) {
      const k = toKsid(v);
      if (k !== null) ksids.push(k);
    }
    return { kind: 'keyspaceIds', ksids };
  };
  const v: LookupVindex = {
    kind: 'lookup',
    name,
    type: a.type,
    unique,
    cost,
    params: a.params,
    owner: a.owner,
    testOnly: kind.testOnly ?? false,
    table,
    from,
    to,
    ignoreNulls: bools.ignore_nulls,
    consistent: kind.consistent ?? false,
    writeOnly,
    autocommit: bools.autocommit,
    multiShardAutocommit: bools.multi_shard_autocommit,
    batchLookup: bools.batch_lookup,
    readLock: a.params.read_lock ?? '',
    noVerify: bools.no_verify,
    toEncoding,
    query: { sql: `select ${from0}, ${to} from ${table} where ${from0} in ::${from0}`, argument: from0 },
    fromValue: kind.fromTransform ?? ((x) => x),
    destinationFor,
  };
  return Object.freeze(v);
}

const NONE: LookupDestination = Object.freeze({ kind: 'none' });
const ALL_SHARDS: LookupDestination = Object.freeze({ kind: 'allShards' });
