import type { KeyRange } from './key-range.js';
import type { VindexValue } from './vindex-values.js';

export interface VindexBase {
  readonly name: string;
  /** The vschema `type`, e.g. "hash", "lookup_unique". */
  readonly type: string;
  /** A unique vindex maps a value to at most one keyspace id. The primary vindex must be unique. */
  readonly unique: boolean;
  /** Vitess's cost: the planner prefers the cheapest vindex a predicate can use. */
  readonly cost: number;
  readonly params: Readonly<Record<string, string>>;
  /** The `owner` table of the vindex declaration, if any. */
  readonly owner?: string;
  /**
   * True for the stand-in types of Vitess's planner tests (hash_test, lookup_test, name_lkp_test,
   * costly, multiCol_test, unq_lkp_test): they carry the kind/unique/cost the planner needs; see
   * README for what their map functions do.
   */
  readonly testOnly: boolean;
}

/**
 * Pure functions of the value: hash, xxhash, numeric, binary, binary_md5, unicode_loose_md5,
 * unicode_loose_xxhash, reverse_bits, null, numeric_static_map, cfc, and the multi-column
 * region_experimental and multicol.
 */
export interface FunctionalVindex extends VindexBase {
  readonly kind: 'functional';
  /** Columns the vindex takes: 1, except multi-column vindexes (region_experimental: 2, multicol: column_count; 0 for multiCol_test, which takes the columns each table lists). */
  readonly columnCount: number;
  /** Multi-column vindexes map with mapColumns; a prefix of their columns maps to a key range. */
  readonly multiColumn: boolean;
  /**
   * Keyspace id of one value; null when the value cannot map (e.g. 'abc' or 1.5 for hash), which
   * means the route targets no shard, as Vitess's DestinationNone. Throws VSchemaLookupError when
   * Vitess would fail the query (e.g. invalid UTF-8 for unicode_loose_md5) and, for multi-column
   * vindexes, always (use mapColumns).
   */
  map(value: VindexValue): Uint8Array | null;
  /**
   * Multi-column form: all columns give a keyspace id, a leading subset gives the key range of
   * every keyspace id with that prefix, null = no shard. Single-column vindexes accept one value.
   */
  mapColumns(values: readonly VindexValue[]): Uint8Array | KeyRange | null;
  /** Present on reversible vindexes (hash, numeric, binary, reverse_bits): keyspace id -> value. */
  reverseMap?(ksid: Uint8Array): VindexValue;
  /**
   * cfc only: the key range of a LIKE 'prefix%' pattern (Vitess's prefix mode; the argument is the
   * pattern text, up to its first unescaped % or _).
   */
  prefixRange?(likePattern: string | Uint8Array): KeyRange;
}

/** What a lookup vindex resolves one input value to, once its table rows are known. */
export type LookupDestination =
  | { readonly kind: 'none' }
  | { readonly kind: 'keyspaceIds'; readonly ksids: readonly Uint8Array[] }
  | { readonly kind: 'allShards' };

/**
 * Backed by a table (usually in an unsharded keyspace): lookup, lookup_unique, consistent_lookup,
 * consistent_lookup_unique, lookup_hash(_unique), lookup_unicodeloosemd5_hash(_unique).
 */
export interface LookupVindex extends VindexBase {
  readonly kind: 'lookup';
  /** Backing table, possibly qualified "ks.table". Empty for test-only types declared without params. */
  readonly table: string;
  readonly from: readonly string[];
  readonly to: string;
  /** Rows whose from-columns are NULL are not written, so NULL never finds a row. */
  readonly ignoreNulls: boolean;
  /** consistent_lookup*: writes are ordered around the owner row instead of using 2PC. */
  readonly consistent: boolean;
  /** Being backfilled: reads cannot trust the table, so every value maps to all shards. */
  readonly writeOnly: boolean;
  readonly autocommit: boolean;
  readonly multiShardAutocommit: boolean;
  readonly batchLookup: boolean;
  readonly readLock: string;
  readonly noVerify: boolean;
  /** How the `to` column stores the keyspace id: raw bytes, or a uint64 to hash (lookup_hash*, lookup_unicodeloosemd5_hash*). */
  readonly toEncoding: 'keyspace_id' | 'hash';
  /** The SELECT Vitess issues to map values (`in ::arg` takes the tuple of values to look up). */
  readonly query: { readonly sql: string; readonly argument: string };
  /** Value to look up in the `from` column for a query value (lookup_unicodeloosemd5_hash* store an md5-derived uint64). */
  fromValue(value: VindexValue): VindexValue;
  /** Destination for one input value given the `to` values its lookup returned (Vitess's MapResult). */
  destinationFor(toValues: readonly VindexValue[]): LookupDestination;
}

export type Vindex = FunctionalVindex | LookupVindex;
