/**
 * Where the rows of a lookup vindex's backing table live. In an unsharded keyspace, on its one
 * shard. In a sharded keyspace the backing table is an ordinary sharded table (as in Vitess, where
 * lookup rows are written and read through normal routing): its primary vindex, on one of the
 * lookup table's `from`/`to` columns, places each lookup row, and a read by `from` value goes to
 * the shards those values map to.
 *
 * Stateless: every call works on its arguments only.
 */
import type { SqlValue } from '@shardgate/planner';
import { ExecutorError } from './errors.js';
import type { VindexLike } from './keyspace-routing.js';
import type { QueryContext } from './query-context.js';
import { keyspaceIdsFor, vindexOf } from './vindex-resolver.js';

const ER_NOT_SUPPORTED_YET = 1235;

export type LookupTablePlacement =
  | { readonly sharded: false; readonly keyspace: string; readonly shard: string }
  | {
      readonly sharded: true;
      readonly keyspace: string;
      /** The lookup table's primary vindex (functional) and the column it is declared on. */
      readonly vindexName: string;
      readonly column: string;
    };

interface ColumnVindexLike {
  readonly name: string;
  readonly columns: readonly string[];
}

/** Where `table` (the backing table of lookup vindex `vindexName`) of `keyspace` keeps its rows. */
export function lookupTablePlacement(ctx: QueryContext, keyspace: string, table: string, vindexName: string): LookupTablePlacement {
  const p = placementOrWhyNot(ctx, keyspace, table);
  if (typeof p === 'string') throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `lookup vindex ${vindexName}: its table ${keyspace}.${table} ${p}`);
  return p;
}

function placementOrWhyNot(ctx: QueryContext, keyspace: string, table: string): LookupTablePlacement | string {
  const ks = ctx.routing.vschema.keyspace(keyspace);
  if (!ks?.sharded) return { sharded: false, keyspace, shard: ctx.routing.shardsOf(keyspace).shards[0] };
  const tables = ks.tables as ReadonlyMap<string, { columnVindexes?: readonly ColumnVindexLike[] }> | undefined;
  const primary = tables?.get?.(table)?.columnVindexes?.[0];
  if (!primary) return 'is in a sharded keyspace but has no primary vindex in the vschema';
  const vindex = vindexOf(ctx, keyspace, primary.name);
  if (vindex.kind === 'lookup' || typeof vindex.map !== 'function') return `is sharded by ${primary.name}, which is not a functional vindex`;
  // A vindex over several columns routes on the first, as Vitess does.
  return { sharded: true, keyspace, vindexName: primary.name, column: primary.columns[0] };
}

/**
 * The shards a read of lookup table `table` by `fromColumn` IN (`values`) must ask: those of the
 * values when the table is sharded by that column, else every shard of its keyspace.
 */
export async function lookupReadShards(ctx: QueryContext, keyspace: string, table: string, fromColumn: string, values: readonly SqlValue[]): Promise<readonly string[]> {
  const p = placementOrWhyNot(ctx, keyspace, table);
  if (typeof p === 'string' || (p.sharded && p.column.toLowerCase() !== fromColumn.toLowerCase())) return ctx.routing.shardsOf(keyspace).shards;
  return shardsForLookupValues(ctx, p, values);
}

/**
 * The shard a new lookup row goes to: `value` is what the row stores in the placement column. The
 * value must map to exactly one keyspace id (as an INSERT's primary vindex value must), else a
 * later read by an equal value could look on another shard.
 */
export async function shardForLookupRow(ctx: QueryContext, p: LookupTablePlacement, value: SqlValue, lookupVindex: string): Promise<string> {
  if (!p.sharded) return p.shard;
  const [dest] = await keyspaceIdsFor(ctx, p.keyspace, p.vindexName, [value]);
  if (dest === 'allShards' || dest.length !== 1) {
    throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `lookup vindex ${lookupVindex}: the value of ${p.column} cannot be placed on exactly one shard of ${p.keyspace} with vindex ${p.vindexName}`);
  }
  return ctx.routing.shardsOf(p.keyspace).shardForKeyspaceId(dest[0]);
}

/**
 * The shards that may hold lookup rows equal to any of `values` in the placement column (every
 * shard when a value's keyspace id is not certain). Used for reads and deletes, where asking a
 * shard too many is harmless.
 */
export async function shardsForLookupValues(ctx: QueryContext, p: LookupTablePlacement, values: readonly SqlValue[]): Promise<readonly string[]> {
  if (!p.sharded) return [p.shard];
  const ks = ctx.routing.shardsOf(p.keyspace);
  const dests = await keyspaceIdsFor(ctx, p.keyspace, p.vindexName, values);
  const found = new Set<string>();
  for (const d of dests) {
    if (d === 'allShards') return ks.shards;
    for (const ksid of d) found.add(ks.shardForKeyspaceId(ksid));
  }
  return ks.shards.filter((s) => found.has(s));
}

/** The lookup table's keyspace and name from the vindex's `table` param (`ks.table` or bare). */
export function lookupTableName(vindex: VindexLike, ownerKeyspace: string): [keyspace: string, table: string] {
  const t = vindex.table!;
  return t.includes('.') ? (t.split('.', 2) as [string, string]) : [ownerKeyspace, t];
}
