/**
 * Maps vindex column values to keyspace ids: functional vindexes compute them, lookup vindexes
 * read their backing table (through the session, so a transaction sees its own lookup rows).
 */
import { ExactNumber, type SqlValue } from '@shardgate/planner';
import { ExecutorError, ER_UNKNOWN_ERROR } from './errors.js';
import type { QueryContext } from './query-context.js';
import { literalOf } from './values/cell-codec.js';
import type { VindexInput, VindexLike } from './keyspace-routing.js';

/** Where one value lives: some keyspace ids (none = nowhere), or every shard. */
export type VindexDestination = readonly Uint8Array[] | 'allShards';

export function vindexOf(ctx: QueryContext, keyspace: string, name: string): VindexLike {
  const ks = ctx.routing.vschema.keyspace(keyspace);
  const v = ks?.vindexes.get(name) as VindexLike | undefined;
  if (!v) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `vindex ${name} not found in keyspace ${keyspace}`);
  return v;
}

export function toVindexInput(v: SqlValue): VindexInput {
  return v instanceof ExactNumber ? v.text : v;
}

export async function keyspaceIdsFor(ctx: QueryContext, keyspace: string, vindexName: string, values: readonly SqlValue[]): Promise<VindexDestination[]> {
  const vindex = vindexOf(ctx, keyspace, vindexName);
  if (vindex.kind !== 'lookup' && typeof vindex.map === 'function') {
    return values.map((v) => {
      if (v === null) return [];
      const ksid = vindex.map!(toVindexInput(v));
      return ksid ? [ksid] : [];
    });
  }
  if (vindex.table && vindex.to) return lookupKeyspaceIds(ctx, keyspace, vindex, values);
  throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `vindex ${vindexName} of ${keyspace} (${vindex.kind}) cannot map values to keyspace ids`);
}

function keyText(v: VindexInput): string {
  if (v === null) return '\u0000';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  return String(v);
}

async function lookupKeyspaceIds(ctx: QueryContext, keyspace: string, vindex: VindexLike, values: readonly SqlValue[]): Promise<VindexDestination[]> {
  const inputs = values.map((v) => (v === null ? null : vindex.fromValue ? vindex.fromValue(toVindexInput(v)) : toVindexInput(v)));
  const nonNull = inputs.filter((v): v is Exclude<VindexInput, null> => v !== null);
  if (nonNull.length === 0) return values.map(() => []);
  const [tableKs, table] = vindex.table!.includes('.') ? (vindex.table!.split('.', 2) as [string, string]) : [keyspace, vindex.table!];
  const from = Array.isArray(vindex.from) ? vindex.from[0] : (vindex.from as string);
  const list = `(${nonNull.map((v) => literalOf(typeof v === 'number' ? new ExactNumber(String(v)) : v)).join(', ')})`;
  const sql = vindex.query
    ? vindex.query.sql.replace(`::${vindex.query.argument}`, list).replace(new RegExp(`\\b${tableKs}\\.`, 'g'), '')
    : `select \`${from}\`, \`${vindex.to}\` from \`${table}\` where \`${from}\` in ${list}`;
  const shards = ctx.routing.shardsOf(tableKs).shards;
  const results = await Promise.all(shards.map((s) => ctx.access.query(tableKs, s, sql, ctx.signal)));
  const byValue = new Map<string, Uint8Array[]>();
  for (const r of results) {
    for (const row of r.rows) {
      if (row[0] === null || row[1] === null) continue;
      const key = Buffer.from(row[0]).toString('latin1');
      const found = byValue.get(key) ?? [];
      found.push(row[1]);
      byValue.set(key, found);
    }
  }
  return inputs.map((v): VindexDestination => {
    if (v === null) return [];
    const toValues = byValue.get(keyText(v)) ?? [];
    if (vindex.destinationFor) {
      const d = vindex.destinationFor(toValues);
      return d.kind === 'none' ? [] : d.kind === 'allShards' ? 'allShards' : d.ksids;
    }
    return toValues;
  });
}
