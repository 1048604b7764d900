/**
 * Insert: splits the VALUES rows by the shard their primary vindex value maps to, fills
 * sequence-backed ids, maintains owned lookup vindexes, and sends one INSERT per shard.
 */
import type { BindVars, InsertPrimitive, QueryTemplate, SqlValue } from '@shardgate/planner';
import { ExecutorError, ER_NOT_SUPPORTED_YET, ER_UNKNOWN_ERROR } from '../errors.js';
import type { QueryContext } from '../query-context.js';
import type { DmlOutcome } from '../types.js';
import { literalOf } from '../values/cell-codec.js';
import { renderRowTemplate, renderTemplate } from '../values/render-query.js';
import { mapInSlices, VALUES_PER_SLICE, yieldToEventLoop } from '../event-loop-yield.js';
import { keyspaceIdsFor, vindexOf, type VindexDestination } from '../vindex-resolver.js';
import { createLookupRows, ownerOf, type LookupRowRef } from '../lookup-upkeep.js';
import { DmlOkSum, fanOut, withSpecialBinds } from './route.js';
import { reserveSequenceIds } from './sequence.js';
import { copyGeneratedIds, fillComputedValues } from '../values/insert-computed-values.js';
import { insertRowsOf } from '../values/selected-insert-rows.js';
import { collect } from './join.js';

export async function runInsert(ctx: QueryContext, p: InsertPrimitive, bindVars: BindVars): Promise<DmlOutcome> {
  ctx.onRouteVariant(`Insert${p.variant}`);
  const bv = withSpecialBinds(ctx, bindVars);
  let rows: SqlValue[][];
  if (p.source !== undefined) {
    // INSERT … SELECT: the SELECT read whole first, as MariaDB reads it before it writes a row.
    const selected = await collect(ctx, p.source.input, bv);
    ctx.holdRows(selected.rows.length);
    rows = insertRowsOf(selected.fields, selected.rows, p.source.columns);
    // Nothing selected: nothing to write, and MariaDB still says so in its info text.
    if (rows.length === 0) return { affectedRows: 0n, insertId: 0n, infoText: 'Records: 0  Duplicates: 0  Warnings: 0' };
  } else {
    const raw = bv[p.rowsBind];
    if (!Array.isArray(raw)) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `insert rows bind var ${p.rowsBind} is missing`);
    // This execution's own copy of the rows: ids get filled in below, the plan's binds stay as they were.
    rows = (raw as unknown as (readonly SqlValue[])[]).map((r) => r.slice());
  }
  const templates: readonly QueryTemplate[] = p.rowTemplates ?? rows.map(() => p.rowTemplate);
  let insertId = 0n;
  // Expressions in vindex or auto-increment columns: evaluated first, as the sequence and the
  // vindexes read their values.
  if (p.computedValues) fillComputedValues(p.computedValues, rows, p.rowTemplates !== undefined, bv, ctx.settings.divPrecisionIncrement);

  if (p.autoIncrement) {
    const { valueIndex, sequence } = p.autoIncrement;
    const needing = rows.filter((r) => (valueIndex < 0 ? true : r[valueIndex] === null || r[valueIndex] === undefined));
    if (needing.length > 0) {
      const first = await reserveSequenceIds(ctx, p.keyspace.name, sequence, needing.length);
      let next = first;
      for (const r of needing) {
        const idx = valueIndex < 0 ? r.length : valueIndex;
        r[idx] = next++;
      }
      insertId = first;
    }
    if (p.computedValues) copyGeneratedIds(p.computedValues, rows);
  }

  const ks = ctx.routing.shardsOf(p.keyspace.name);
  const perShard = new Map<string, number[]>();
  if (p.variant === 'Reference') {
    // Every shard holds a whole copy of a reference table: every row goes to every copy. The
    // session runs an autocommit write in a transaction of its own, so the copies change together.
    const every = rows.map((_, i) => i);
    for (const shard of ks.shards) perShard.set(shard, every);
  } else if (p.variant === 'Unsharded' || !p.primaryVindex || p.primaryVindex.length === 0) {
    perShard.set(ks.shards[0], rows.map((_, i) => i));
  } else {
    const primary = p.primaryVindex[0];
    const ksids = await keyspaceIdsFor(ctx, p.keyspace.name, primary.vindex, rows.map((r) => r[primary.valueIndex] ?? null));
    for (let i = 0; i < rows.length; i++) {
      if (i > 0 && i % VALUES_PER_SLICE === 0) await yieldToEventLoop();
      const r = rows[i]!;
      const dest = ksids[i]!;
      if (dest === 'allShards' || dest.length !== 1) {
        const computed = p.computedValues?.find((c) => c.routeIndex === primary.valueIndex);
        if (computed && r[primary.valueIndex] !== null) {
          throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: the value ${literalOf(r[computed.sendIndex] ?? null)} of the expression for primary vindex column ${computed.column} (vindex ${primary.vindex}): MariaDB converts it into the column's type, which the gateway does not know exactly${computed.integerColumn ? '' : ' (declare the column in the vschema, e.g. "type": "INT64", to have numbers rounded as MariaDB stores them)'}`);
        }
        if (p.source !== undefined && r[primary.valueIndex] !== null) {
          // A SELECT's value the vindex cannot map (2000.50, '7.5' for an integer column): MariaDB
          // converts it into the column's type first, by rules the gateway does not know exactly.
          throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: the value ${literalOf(r[primary.valueIndex] ?? null)} that the SELECT gives the primary vindex column of ${p.table} (vindex ${primary.vindex}): MariaDB converts it into the column's type, which the gateway does not know exactly; CAST it to that type in the SELECT`);
        }
        throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `could not map ${literalOf(r[primary.valueIndex] ?? null)} to a keyspace id with vindex ${primary.vindex} (table ${p.table} needs a value for its primary vindex column)`);
      }
      const shard = ks.shardForKeyspaceId(dest[0]);
      const list = perShard.get(shard) ?? [];
      list.push(i);
      perShard.set(shard, list);
    }
    if (p.ownedVindexes && p.ownedVindexes.length > 0) {
      refuseRowsThatMayNotBeInserted(ctx, p, renderTemplate(p.suffix, bv));
      await insertLookupRows(ctx, p, rows, ksids);
    }
  }

  const suffix = renderTemplate(p.suffix, bv);
  const upsert = /^\s*on\s+duplicate\s+key\s+update\b/i.test(suffix);
  const ignore = /^\s*insert\s+(?:(?:low_priority|delayed|high_priority)\s+)?ignore\b/i.test(p.prefix);
  const sum = new DmlOkSum();
  const targets = [...perShard.entries()].map(([shard, idx]) => ({ shard, idx }));
  // With no id generated, MariaDB's OK packet carries the auto-increment column's value in the
  // statement's last row (0 for a table without one): the last row's shard says it, as its own
  // last row. The first shard to answer said its own (a wrong LAST insert id, varying by timing).
  const lastRow = rows.length - 1;
  /** Concurrency rule: set once, synchronously, by the callback of the shard that holds the last row. */
  let lastRowInsertId: bigint | undefined;
  await fanOut(ctx, p.keyspace.name, targets, async (t, signal) => {
    const values = (await mapInSlices(t.idx, (i) => renderRowTemplate(templates[i], rows[i], bv))).join(', ');
    // The copies of a reference table change alike: the client hears one copy's counts and
    // warnings (INSERT IGNORE of a duplicate warned once per copy: 4 warnings on 4 shards).
    const otherCopy = p.variant === 'Reference' && t.shard !== ks.shards[0];
    const r = await (otherCopy ? ctx.sessionAccess : ctx.access).query(p.keyspace.name, t.shard, `${p.prefix}${values}${suffix}`, signal);
    if (otherCopy) return;
    if (t.idx[t.idx.length - 1] === lastRow) lastRowInsertId = r.insertId;
    if (r.counts !== undefined || t.idx.length !== 1) {
      sum.add(r);
    } else {
      // A shard that got one row sends no "Records:" text, but the client's statement may have had
      // several rows: count that row as the shard would have. Without FOUND_ROWS an affected count
      // of 2 is a duplicate updated (upsert) or replaced (REPLACE); 0 with IGNORE is a duplicate
      // skipped; 0 for an upsert is a duplicate left unchanged, which is not counted.
      const duplicate = r.affectedRows >= 2n || (ignore && r.affectedRows === 0n);
      sum.add({ ...r, counts: { records: 1n, duplicates: duplicate ? 1n : 0n, warnings: BigInt(r.warningCount) } });
    }
  });
  // MariaDB sends the "Records: …" text for a statement of several rows only, and for every
  // INSERT … SELECT (`Records: 0` too).
  const out = sum.outcome({ info: rows.length > 1 || p.source !== undefined, upsert: upsert && !ignore });
  if (insertId !== 0n) return { ...out, insertId };
  return lastRowInsertId !== undefined ? { ...out, insertId: lastRowInsertId } : out;
}

/**
 * INSERT IGNORE, INSERT … ON DUPLICATE KEY UPDATE and REPLACE may leave a VALUES row out (a
 * duplicate ignored or turned into an update) or delete an existing row without the gateway
 * knowing which: the lookup rows written for the row left out, or kept for the row deleted, stay
 * behind. A consistent lookup tolerates such orphans (a later insert of the value takes the row
 * over); a plain lookup does not: an orphan row of a lookup_unique made a later INSERT of that
 * value fail with 1062 where MariaDB inserts it (found by the write differential). Refused
 * before anything is written.
 */
function refuseRowsThatMayNotBeInserted(ctx: QueryContext, p: InsertPrimitive, suffix: string): void {
  const kind = /^\s*replace\b/i.test(p.prefix) ? 'REPLACE' : /^\s*insert\s+(?:(?:low_priority|delayed|high_priority)\s+)?ignore\b/i.test(p.prefix) ? 'INSERT IGNORE' : /^\s*on\s+duplicate\s+key\s+update\b/i.test(suffix) ? 'INSERT … ON DUPLICATE KEY UPDATE' : undefined;
  if (kind === undefined) return;
  for (const o of p.ownedVindexes!) {
    const v = vindexOf(ctx, p.keyspace.name, o.vindex);
    if (!v.consistent) {
      throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: ${kind} into ${p.table}, which owns lookup vindex ${o.vindex} (a plain lookup): the lookup rows of a row left out or replaced would stay behind; use a consistent_lookup vindex, or INSERT alone`);
    }
  }
}

/**
 * Owned lookup vindexes: a (value → keyspace id) row per inserted row, written before the rows
 * themselves as Vitess does (a consistent lookup's in the pre transaction, see lookup-upkeep.ts).
 */
async function insertLookupRows(ctx: QueryContext, p: InsertPrimitive, rows: (readonly SqlValue[])[], ksids: VindexDestination[]): Promise<void> {
  const primary = p.primaryVindex![0];
  // One entry per column of each vindex, in the vindex's column order: group them by vindex.
  const byVindex = new Map<string, number[]>();
  for (const o of p.ownedVindexes!) {
    const cols = byVindex.get(o.vindex) ?? [];
    cols.push(o.valueIndex);
    byVindex.set(o.vindex, cols);
  }
  for (const [vindex, valueIndexes] of byVindex) {
    const refs: LookupRowRef[] = rows.map((r, i) => ({
      from: valueIndexes.map((vi) => r[vi] ?? null),
      ksid: (ksids[i] as readonly Uint8Array[])[0],
      primaryValue: r[primary.valueIndex] ?? null,
    }));
    await createLookupRows(ctx, p.keyspace.name, vindex, refs, ownerOf(ctx, p.keyspace.name, p.table, vindex));
  }
}
