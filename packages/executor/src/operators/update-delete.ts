/**
 * UPDATE and DELETE. Without owned lookup vindexes they are a route write. With them (Vitess's
 * OwnedVindexQuery flow), the executor first reads and locks the owned vindex columns of the rows
 * the statement will change (`select … for update` on the same shards), then changes their lookup
 * rows (lookup-upkeep.ts decides in which transaction), then runs the statement itself on the same
 * shards. The session runs such a statement inside a transaction (its own one under autocommit),
 * so the lock holds until the lookup rows and the rows commit together.
 */
import type { BindVars, DmlPrimitive, SqlValue } from '@shardgate/planner';
import { ExactNumber } from '@shardgate/planner';
import { ExecutorError, ER_UNKNOWN_ERROR } from '../errors.js';
import { createLookupRows, deleteLookupRows, ownerOf, respellLookupRows, type LookupRowRef } from '../lookup-upkeep.js';
import type { QueryContext } from '../query-context.js';
import type { Cell, DmlOutcome, FieldInfo } from '../types.js';
import { renderTemplate } from '../values/render-query.js';
import { evalScalar } from '../values/value-expr.js';
import { keyspaceIdsFor } from '../vindex-resolver.js';
import { fanOut, resolveRouteTargets, runRouteWrite, runRouteWriteOn, withSpecialBinds } from './route.js';

const ER_NOT_SUPPORTED_YET = 1235;

export async function runUpdateDelete(ctx: QueryContext, p: DmlPrimitive, bindVars: BindVars): Promise<DmlOutcome> {
  if (!p.ownedVindexes || p.ownedVindexes.length === 0) {
    if (p.limit === undefined) return runRouteWrite(ctx, p.route, bindVars);
    ctx.onRouteVariant(p.route.variant);
    const resolvedLimited = resolveRouteTargets(ctx, p.route, withSpecialBinds(ctx, bindVars), true);
    const limitedTargets = resolvedLimited instanceof Promise ? await resolvedLimited : resolvedLimited;
    refuseMultiShardLimit(p, limitedTargets.length);
    return runRouteWriteOn(ctx, p.route, limitedTargets);
  }
  const route = p.route;
  const keyspace = route.keyspace.name;
  const table = route.table;
  if (!p.ownedVindexQuery || !p.ownedVindexColumns || !table) {
    throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `${p.operator.toUpperCase()} on a table that owns lookup vindexes (${p.ownedVindexes.join(', ')}) needs a plan with its owned-vindex query; this plan has none`);
  }
  ctx.onRouteVariant(route.variant);
  const bv = withSpecialBinds(ctx, bindVars);
  const resolved = resolveRouteTargets(ctx, route, bv, true);
  const targets = resolved instanceof Promise ? await resolved : resolved;
  refuseMultiShardLimit(p, targets.length);

  // 1. The rows about to change, locked. Concurrency rule: `found` is appended to synchronously by
  // each shard's callback once its whole result is in; nothing reads it until fanOut settles.
  const found: { fields: readonly FieldInfo[]; row: readonly Cell[] }[] = [];
  const lockQuery = p.ownedVindexQuery;
  await fanOut(ctx, keyspace, targets, async (t, signal) => {
    const r = await ctx.access.query(keyspace, t.shard, renderTemplate(lockQuery, t.bindVars), signal);
    for (const row of r.rows) found.push({ fields: r.fields, row });
  });

  if (found.length > 0) {
    // 2. Their keyspace ids, from the primary vindex column.
    const cols = p.ownedVindexColumns.map((c) => c.toLowerCase());
    const primary = primaryVindexOf(ctx, keyspace, table);
    const primaryAt = cols.indexOf(primary.columns[0].toLowerCase());
    if (primaryAt < 0) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `owned-vindex query of ${table} lacks primary vindex column ${primary.columns[0]}`);
    const rows = found.map(({ fields, row }) => row.map((c, i) => cellValue(c, fields[i])));
    const primaryValues = rows.map((r) => r[primaryAt]);
    const ksids = await keyspaceIdsFor(ctx, keyspace, primary.name, primaryValues);

    // 3. Their lookup rows: deleted (DELETE), or moved to the new values (UPDATE). Vitess order:
    // every deletion, then every creation.
    const changed = new Map((p.changedVindexValues ?? []).map((c) => [c.column.toLowerCase(), evalScalar(c.value, bv)] as const));
    const creations: { vindex: string; refs: LookupRowRef[] }[] = [];
    for (const vindex of p.ownedVindexes) {
      const owner = ownerOf(ctx, keyspace, table, vindex);
      if (!owner) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `table ${table} has no column vindex ${vindex}`);
      const at = owner.columns.map((c) => {
        const i = cols.indexOf(c.toLowerCase());
        if (i < 0) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `owned-vindex query of ${table} lacks column ${c} of vindex ${vindex}`);
        return i;
      });
      const olds: LookupRowRef[] = [];
      const news: LookupRowRef[] = [];
      rows.forEach((r, i) => {
        const dest = ksids[i];
        if (dest === 'allShards' || dest.length !== 1) {
          throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `row of ${table} with ${primary.columns[0]} = ${String(primaryValues[i])} maps to no single keyspace id`);
        }
        const old: LookupRowRef = { from: at.map((j) => r[j]), ksid: dest[0], primaryValue: primaryValues[i] };
        if (p.operator === 'Delete') {
          olds.push(old);
          return;
        }
        const next: LookupRowRef = { ...old, from: owner.columns.map((c, k) => (changed.has(c.toLowerCase()) ? changed.get(c.toLowerCase())! : old.from[k])) };
        // An unchanged value is a no-op: a consistent lookup would otherwise lock the same lookup
        // row from its post and its pre transaction and wait for itself.
        if (sameValues(old.from, next.from)) return;
        olds.push(old);
        news.push(next);
      });
      if (news.length > 0) {
        // A new value its lookup table holds equal to the old one keeps the same lookup row.
        const respelled = await respellLookupRows(ctx, keyspace, vindex, news.map((next, i) => ({ old: olds[i]!, next })));
        for (let i = respelled.length - 1; i >= 0; i--) {
          if (!respelled[i]) continue;
          olds.splice(i, 1);
          news.splice(i, 1);
        }
      }
      await deleteLookupRows(ctx, keyspace, vindex, olds);
      if (news.length > 0) creations.push({ vindex, refs: news });
    }
    for (const c of creations) await createLookupRows(ctx, keyspace, c.vindex, c.refs, ownerOf(ctx, keyspace, table, c.vindex));
  }

  // 4. The statement itself, on the shards resolved before the lookup rows moved.
  return runRouteWriteOn(ctx, route, targets);
}

function primaryVindexOf(ctx: QueryContext, keyspace: string, table: string): { name: string; columns: readonly string[] } {
  const tables = ctx.routing.vschema.keyspace(keyspace)?.tables as ReadonlyMap<string, { columnVindexes?: readonly { name: string; columns: readonly string[] }[] }> | undefined;
  const primary = tables?.get?.(table)?.columnVindexes?.[0];
  if (!primary) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `table ${keyspace}.${table} has no primary vindex`);
  if (primary.columns.length !== 1) {
    throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `maintaining lookup vindexes of ${table}, whose primary vindex ${primary.name} has several columns`);
  }
  return primary;
}

/** MySQL type codes whose text is an integer (TINY, SHORT, LONG, LONGLONG, INT24, YEAR). */
const INTEGER_TYPES = new Set([1, 2, 3, 8, 9, 13]);
/** DECIMAL, NEWDECIMAL. */
const DECIMAL_TYPES = new Set([0, 246]);
const BINARY_CHARSET = 63;

/** A shard cell as the value a vindex and a literal need: integers exact, binary strings as bytes. */
function cellValue(cell: Cell, field: FieldInfo | undefined): SqlValue {
  if (cell === null) return null;
  const text = typeof cell === 'string' ? cell : Buffer.from(cell).toString('utf8');
  if (field && INTEGER_TYPES.has(field.columnType)) return BigInt(text);
  if (field && DECIMAL_TYPES.has(field.columnType)) return new ExactNumber(text);
  if (field && field.characterSet === BINARY_CHARSET && typeof cell !== 'string') return Uint8Array.from(cell);
  return text;
}

function sameValues(a: readonly SqlValue[], b: readonly SqlValue[]): boolean {
  return a.every((x, i) => valueKey(x) === valueKey(b[i] ?? null));
}

function valueKey(v: SqlValue): string {
  if (v === null) return '\u0000null';
  if (v instanceof Uint8Array) return 'b' + Buffer.from(v).toString('hex');
  return 's' + String(v);
}

/**
 * The planner refuses scatter DML with LIMIT; a single-shard route whose vindex value turns out
 * at run time to need several shards (`where id = ' 3' limit 1`: not certainly one keyspace id)
 * would apply the LIMIT on each shard, so it is refused the same way.
 */
function refuseMultiShardLimit(p: DmlPrimitive, shards: number): void {
  // Reference tables: every copy changes alike, LIMIT included.
  if (p.limit !== undefined && shards > 1 && p.route.variant !== 'Reference') {
    throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: multi-shard ${p.operator.toUpperCase()} with LIMIT (the value compared with the vindex column does not map to one shard)`);
  }
}
