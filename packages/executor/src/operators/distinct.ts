/**
 * Distinct (UNION, SELECT DISTINCT across shards): passes each row the first time its
 * collation-equal key is seen. Streams; memory holds the keys seen so far.
 */
import type { BindVars, DistinctPrimitive } from '@shardgate/planner';
import type { QueryContext } from '../query-context.js';
import { FieldsOnce, trimFields, trimRow, type RowReceiver } from '../row-flow.js';
import type { FieldInfo, Row } from '../types.js';
import { equalityKey } from '../values/cell-compare.js';
import { CollationTagCheck } from '../values/collation-tag-check.js';
import { runPrimitive } from '../primitive-runner.js';

export function rowKey(row: Row, fields: readonly FieldInfo[], columns: number, weightStringColumns?: readonly (number | undefined)[]): string {
  let key = '';
  for (let i = 0; i < columns; i++) {
    const ws = weightStringColumns?.[i];
    key += equalityKey(row[i], fields[i], ws === undefined ? undefined : row[ws]) + '\u0001';
  }
  return key;
}

export async function runDistinct(ctx: QueryContext, p: DistinctPrimitive, bv: BindVars, out: RowReceiver): Promise<void> {
  // Per-query set of keys. Concurrency rule: each chunk checks and inserts its keys in one
  // synchronous loop (no await between has() and add()), so concurrent chunks cannot both pass
  // the same key.
  const seen = new Set<string>();
  let fields: readonly FieldInfo[] = [];
  // Set with the fields (before any row), when the plan asks for it.
  let collations: CollationTagCheck | null = null;
  const fieldsOnce = new FieldsOnce((f) => {
    fields = f;
    if (p.collationTagColumn !== undefined) collations = new CollationTagCheck(f, p.collationTagColumn, p.weightStringColumns ?? []);
    out.fields(trimFields(f, p.resultColumns));
  });
  await runPrimitive(ctx, p.input, bv, {
    fields: (f) => fieldsOnce.fields(f),
    rows: (rows) => {
      // The result columns; without a trim, those that have keys (the rest are the keys).
      const columns = p.resultColumns ?? p.weightStringColumns?.length ?? fields.length;
      const fresh: Row[] = [];
      for (const r of rows) {
        collations?.check(r);
        const k = rowKey(r, fields, columns, p.weightStringColumns);
        if (seen.has(k)) continue;
        seen.add(k);
        fresh.push(trimRow(r, p.resultColumns));
      }
      ctx.holdRows(fresh.length);
      return fresh.length > 0 ? out.rows(fresh) : undefined;
    },
  });
}
