/**
 * Where a keyspace's rows live: its shards (from the topology), the shard of a keyspace id, the
 * shards of a key range, and vindex lookups. Built once at Executor construction.
 *
 * Concurrency rule: immutable after construction; shared by every session.
 */
import { ExecutorError, ER_BAD_DB_ERROR, ER_UNKNOWN_ERROR } from './errors.js';

/** What the executor needs of a vindex (structurally a subset of @shardgate/vschema's Vindex). */
export interface VindexLike {
  readonly kind: string;
  /** Functional vindexes: value → keyspace id, or null when the value maps nowhere. */
  map?(value: VindexInput): Uint8Array | null;
  /**
   * Functional vindexes: the keyspace id of a value a query compares the column with, only when
   * every value MariaDB finds equal to it has that keyspace id; null = not sure (ask every shard).
   * `numberLiteral`: the value is the text of a decimal or double literal (`3.0`, `3e0`).
   */
  mapCompared?(value: VindexInput, numberLiteral: boolean): Uint8Array | 'none' | null;
  /** Lookup vindexes: the backing table (`ks.table` or `table`) and its columns. */
  readonly table?: string;
  readonly from?: string | readonly string[];
  readonly to?: string;
  readonly unique?: boolean;
  /** consistent_lookup*: lookup rows are created in the pre and deleted in the post transaction. */
  readonly consistent?: boolean;
  /** The `autocommit` param: lookup rows are written on a pooled connection, outside transactions. */
  readonly autocommit?: boolean;
  /** How `to` stores the keyspace id: the id itself, or a uint64 whose hash it is (lookup_hash*). */
  readonly toEncoding?: 'keyspace_id' | 'hash';
  /** Lookup vindexes: the SELECT that maps values (`in ::argument` takes the value tuple). */
  readonly query?: { readonly sql: string; readonly argument: string };
  fromValue?(value: VindexInput): VindexInput;
  destinationFor?(toValues: readonly VindexInput[]): { readonly kind: 'none' } | { readonly kind: 'keyspaceIds'; readonly ksids: readonly Uint8Array[] } | { readonly kind: 'allShards' };
}

/** What vindexes take: integers as bigint, exact decimals and strings as text, binary as bytes. */
export type VindexInput = bigint | number | string | Uint8Array | null;

export interface KeyspaceLike {
  readonly sharded: boolean;
  readonly vindexes: { get(name: string): unknown };
  readonly tables?: unknown;
}

/** What the executor needs of the vschema (structurally a subset of @shardgate/vschema's VSchema). */
export interface VSchemaLike {
  keyspace(name: string): KeyspaceLike | undefined;
}

interface ShardRange {
  readonly name: string;
  readonly start: string; // lower-case hex, '' = unbounded
  readonly end: string;
  /** The bounds as bytes (null when a bound has an odd number of hex digits: compared as hex). */
  readonly startBytes: Uint8Array | null;
  readonly endBytes: Uint8Array | null;
}

function hexBytes(hex: string): Uint8Array | null {
  return hex.length % 2 === 0 ? Uint8Array.from(Buffer.from(hex, 'hex')) : null;
}

/**
 * compareHexKeys on bytes: a key and a bound compare as if both were padded with zero bytes to the
 * same length (trailing zero bytes do not matter). Called per value of an IN list: no string.
 */
function compareKeyBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = i < a.length ? a[i]! : 0;
    const y = i < b.length ? b[i]! : 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function parseRange(name: string): { start: string; end: string } | null {
  if (name === '0' || name === '-' || name === '') return { start: '', end: '' };
  const m = /^([0-9a-fA-F]*)-([0-9a-fA-F]*)$/.exec(name);
  if (!m) return null;
  return { start: m[1].toLowerCase(), end: m[2].toLowerCase() };
}

/** Compares hex keys the Vitess way: trailing zero bytes do not matter ("80" == "8000"). */
function compareHexKeys(a: string, b: string): number {
  const x = a.replace(/(00)+$/, '');
  const y = b.replace(/(00)+$/, '');
  return x < y ? -1 : x > y ? 1 : 0;
}

function intersects(a: { start: string; end: string }, b: { start: string; end: string }): boolean {
  const aBeforeBEnd = b.end === '' || compareHexKeys(a.start, b.end) < 0;
  const bBeforeAEnd = a.end === '' || compareHexKeys(b.start, a.end) < 0;
  return aBeforeBEnd && bBeforeAEnd;
}

function toHex(ksid: Uint8Array): string {
  return Buffer.from(ksid.buffer, ksid.byteOffset, ksid.byteLength).toString('hex');
}

export class KeyspaceShards {
  readonly ranges: readonly ShardRange[];
  /**
   * `databases`: shard → the name of the database the shard's connections use, when it is not the
   * keyspace's name (a `mysql://…/db` shard); information_schema queries name it in place of the
   * keyspace.
   */
  constructor(
    readonly keyspace: string,
    readonly shards: readonly string[],
    private readonly databases: Readonly<Record<string, string>> = {},
  ) {
    const ranges: ShardRange[] = [];
    for (const name of shards) {
      const r = parseRange(name);
      if (r) ranges.push({ name, ...r, startBytes: hexBytes(r.start), endBytes: hexBytes(r.end) });
    }
    ranges.sort((a, b) => compareHexKeys(a.start, b.start));
    this.ranges = ranges;
  }

  shardForKeyspaceId(ksid: Uint8Array): string {
    for (const r of this.ranges) {
      if (r.startBytes === null || r.endBytes === null) continue;
      if ((r.start === '' || compareKeyBytes(ksid, r.startBytes) >= 0) && (r.end === '' || compareKeyBytes(ksid, r.endBytes) < 0)) return r.name;
    }
    const hex = toHex(ksid);
    for (const r of this.ranges) {
      if (r.startBytes !== null && r.endBytes !== null) continue;
      if ((r.start === '' || compareHexKeys(hex, r.start) >= 0) && (r.end === '' || compareHexKeys(hex, r.end) < 0)) return r.name;
    }
    throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `keyspace id ${hex} is not covered by any shard of ${this.keyspace} (shards: ${this.shards.join(', ')})`);
  }

  /** The database a shard's connections use (the keyspace's name unless configured otherwise). */
  databaseOf(shard: string): string {
    return Object.prototype.hasOwnProperty.call(this.databases, shard) ? this.databases[shard]! : this.keyspace;
  }

  /** Shards named exactly, or whose key range intersects a key-range name such as `-80`. */
  shardsFor(target: string): string[] {
    if (this.shards.includes(target)) return [target];
    const r = parseRange(target);
    if (!r) throw unknownTarget(this.keyspace, target);
    const hits = this.ranges.filter((s) => intersects(s, r)).map((s) => s.name);
    if (hits.length === 0) throw unknownTarget(this.keyspace, target);
    return hits;
  }
}

function unknownTarget(keyspace: string, target: string): ExecutorError {
  return new ExecutorError(ER_BAD_DB_ERROR, '42000', `Unknown database '${keyspace}:${target}' (no such shard or key range)`);
}

export function unknownDatabase(name: string): ExecutorError {
  return new ExecutorError(ER_BAD_DB_ERROR, '42000', `Unknown database '${name}'`);
}
