/**
 * Concatenate (UNION ALL): runs its inputs one after another into one stream. The first input's
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
import { unionFields, unionRowConverter } from '../values/union-column-types.js';

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

  const convert = (k: number, rows: Row[]): Row[] => {
    const f = partFields[k];
    const conv = f ? unionRowConverter(f, merged!) : null;
    return conv ? rows.map(conv) : rows;
  };
  const publish = async (): Promise<void> => {
    if (merged !== null) return;
    merged = unionFields(partFields);
    out.fields(merged);
    for (const h of held.splice(0)) await out.rows(convert(h.input, h.rows));
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
        await out.rows(convert(k, rows));
      },
    });
  }
  await publish();
}
