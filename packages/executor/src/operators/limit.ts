/**
 * Limit/Offset over a (possibly merged, possibly concurrent) stream. Once enough rows went out,
 * the input is stopped through its own abort signal, which kills the shard statements still
 * running; the Limit then completes normally.
 */
import type { BindVars, LimitPrimitive } from '@shardgate/planner';
import { childAbort, type QueryContext } from '../query-context.js';
import type { RowReceiver } from '../row-flow.js';
import { evalCount } from '../values/value-expr.js';
import { runPrimitive } from '../primitive-runner.js';
import { sliceWithPackets } from '../row-packets.js';

/** The abort reason a Limit uses to stop its input; recognised by identity. */
class LimitReached extends Error {
  constructor() {
    // Never shown: skip capturing a stack (a visible share of a scatter LIMIT's CPU).
    const depth = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super('limit reached');
    Error.stackTraceLimit = depth;
  }
}

export async function runLimit(ctx: QueryContext, p: LimitPrimitive, bv: BindVars, out: RowReceiver): Promise<void> {
  const count = evalCount(p.count, bv, 'LIMIT');
  const offset = p.offset ? evalCount(p.offset, bv, 'OFFSET') : 0;
  const { controller, dispose } = childAbort(ctx.signal);
  // Made only when the Limit does stop its input (not for a result shorter than the window).
  let stop: LimitReached | null = null;
  const stopInput = () => controller.abort((stop ??= new LimitReached()));
  // Per-query counters shared by concurrent chunks of the input. Concurrency rule: both are read
  // and advanced in one synchronous step per chunk (before any await), so sibling chunks claim
  // disjoint slices and the total never exceeds offset + count.
  let skipped = 0;
  let emitted = 0;
  const receiver: RowReceiver = {
    rowsWanted: offset + count,
    // Rows pass one for one, unchanged, with their packets (sliceWithPackets).
    takesPacketRows: out.takesPacketRows,
    fields: (f) => {
      out.fields(f);
      if (count === 0) stopInput();
    },
    rows: async (rows) => {
      let start = 0;
      if (skipped < offset) {
        start = Math.min(rows.length, offset - skipped);
        skipped += start;
      }
      const take = Math.min(rows.length - start, count - emitted);
      if (take <= 0) {
        if (emitted >= count) stopInput();
        return;
      }
      emitted += take;
      const done = emitted >= count;
      await out.rows(start === 0 && take === rows.length ? rows : sliceWithPackets(rows, start, start + take));
      if (done) stopInput();
    },
  };
  try {
    // The input's first fan-out aborts its shards through this controller (QueryContext.takeOwnAbort):
    // every error of the input is this Limit's error, except its own LimitReached.
    await runPrimitive(ctx.withOwnAbort(controller), p.input, bv, receiver);
  } catch (err) {
    if (stop === null || err !== stop || ctx.signal.aborted) throw err;
  } finally {
    dispose();
  }
}
