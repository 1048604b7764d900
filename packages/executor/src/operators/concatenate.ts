/**
 * Concatenate (UNION ALL, and UNION DISTINCT over its first inputs): runs its inputs one after
 * another into one stream. The first input's
 * columns name the result, as on one server, and each column's type is the aggregate of every
 * input's type (values converted to it), so the columns go out only once every input's are known:
 * in OLTP the earlier inputs' rows wait in memory (counted against maxMemoryRows) until the last
 * input reports its columns; in OLAP the later inputs are first asked for their columns alone
 * (`LIMIT 0`), so that every row streams.
 */
import type { BindVars, ConcatenatePrimitive } from '@shardgate/planner';
import type { QueryContext } from '../query-context.js';
import type { RowReceiver } from '../row-flow.js';
import { CollectingReceiver } from '../row-flow.js';
import type { FieldInfo, Row } from '../types.js';
import { runPrimitive } from '../primitive-runner.js';
import { rowKey } from './distinct.js';
import { CollationTagCheck } from '../values/collation-tag-check.js';
import { refuseUnroundedConversion, unionFields, unionRowConverter } from '../values/union-column-types.js';

export async function runConcatenate(ctx: QueryContext, p: ConcatenatePrimitive, bv: BindVars, out: RowReceiver): Promise<void> {
  const n = p.inputs.length;
  // Per-statement state, touched only by this function's sequential input runs: each input's
  // fields callback runs before its rows, and inputs never overlap.
  const partFields: (readonly FieldInfo[] | undefined)[] = new Array(n);
  let merged: FieldInfo[] | null = null;
  const held: { input: number; rows: Row[] }[] = [];

  if (ctx.streaming && n > 1) {
    const probe = ctx.columnsOnly();
    for (let k = 1; k < n; k++) {
      const c = new CollectingReceiver();
      await runPrimitive(probe, p.inputs[k]!, bv, c);
      partFields[k] = c.fieldDefs ?? undefined;
    }
  }

  // UNION DISTINCT over inputs 0…through: keys seen so far. Concurrency rule: checked and added in
  // one synchronous loop per chunk (no await between has() and add()).
  const seen = new Set<string>();
  let collations: CollationTagCheck | null = null;
  const convert = (k: number, rows: Row[], counted = false): Row[] => {
    const f = partFields[k];
    const conv = f ? unionRowConverter(f, merged!) : null;
    const converted = conv ? rows.map(conv) : rows;
    const d = p.distinct;
    if (!d || k > d.through) return converted;
    const columns = d.weightStringColumns?.length ?? merged!.length;
    const fresh: Row[] = [];
    for (const r of converted) {
      collations?.check(r);
      const key = rowKey(r, merged!, columns, d.weightStringColumns);
      if (seen.has(key)) continue;
      seen.add(key);
      fresh.push(r);
    }
    // The keys stay in memory: counted as rows, unless the rows were counted while held.
    if (!counted) ctx.holdRows(fresh.length);
    return fresh;
  };
  const publish = async (): Promise<void> => {
    if (merged !== null) return;
    merged = unionFields(partFields, p.streamedUnionAll === true);
    p.divisionColumns?.forEach((columns, k) => {
      for (const i of columns) refuseUnroundedConversion(partFields[k]?.[i], merged![i]);
    });
    if (p.distinct?.collationTagColumn !== undefined) collations = new CollationTagCheck(merged, p.distinct.collationTagColumn, p.distinct.weightStringColumns ?? []);
    out.fields(merged);
    for (const h of held.splice(0)) {
      const rows = convert(h.input, h.rows, true);
      if (rows.length > 0) await out.rows(rows);
    }
  };
  const ready = (k: number): boolean => {
    for (let j = k + 1; j < n; j++) if (partFields[j] === undefined) return false;
    return true;
  };

  for (let k = 0; k < n; k++) {
    await runPrimitive(ctx, p.inputs[k]!, bv, {
      fields: (f) => {
        if (merged === null) partFields[k] = f;
      },
      rows: async (rows) => {
        if (merged === null && !ready(k)) {
          ctx.holdRows(rows.length);
          held.push({ input: k, rows: rows.slice() });
          return;
        }
        await publish();
        const fresh = convert(k, rows);
        if (fresh.length > 0) await out.rows(fresh);
      },
    });
  }
  await publish();
}
