/**
 * Shard results read whole (OLTP) leave no I/O between the chunks of a statement, so the route
 * and a merge of such results give the event loop a turn every VALUES_PER_SLICE rows themselves:
 * a receiver that works on every row (DISTINCT, an aggregate) got 75,000 rows of a shard as one
 * chunk, and a merge of them ran as one chain of microtasks, holding every other client meanwhile.
 */
import { describe, expect, it } from 'vitest';
import { shardRows } from '../src/operators/route.js';
import type { QueryContext } from '../src/query-context.js';
import type { RowReceiver } from '../src/row-flow.js';
import type { ShardResult } from '../src/shard-pool.js';
import type { FieldInfo, Row } from '../src/types.js';
import { VALUES_PER_SLICE } from '../src/event-loop-yield.js';
import { isPacketOnlyRow, rowPacketsOf } from '../src/row-packets.js';

const ROWS = 3 * VALUES_PER_SLICE + 77;
const fields = [{ name: 'id' }] as unknown as FieldInfo[];

/** One text row packet per id (a length byte and the digits), in one buffer, as the shard client keeps them. */
function shardResult(onDemand: boolean): ShardResult {
  const texts = Array.from({ length: ROWS }, (_, i) => String(i));
  const buf = Buffer.concat(texts.map((t) => Buffer.concat([Buffer.from([t.length]), Buffer.from(t)])));
  const sources: Uint8Array[] = [];
  const bounds: number[] = [];
  const rows: Row[] = [];
  let at = 0;
  for (const t of texts) {
    sources.push(buf);
    bounds.push(at, at + 1 + t.length);
    rows.push([buf.subarray(at + 1, at + 1 + t.length)]);
    at += 1 + t.length;
  }
  let decodedAll = false;
  const base = { isResultSet: true, fields, affectedRows: 0, insertId: 0, warningCount: 0, packets: { sources, bounds } };
  if (!onDemand) return { ...base, rows } as unknown as ShardResult;
  return {
    ...base,
    get rows() {
      decodedAll = true;
      return rows;
    },
    rowAt: (i: number) => {
      if (decodedAll) throw new Error('rowAt after rows');
      return rows[i]!;
    },
    rowCount: ROWS,
  } as unknown as ShardResult;
}

function context(result: ShardResult): QueryContext {
  return { streaming: false, access: { query: async () => result }, throwIfAborted: () => undefined } as unknown as QueryContext;
}

/** Records each chunk's rows and how many queued callbacks ran before it came. */
function receiver(takesPacketRows: boolean): RowReceiver & { chunks: { rows: Row[]; turn: number }[]; stop(): void } {
  let turn = 0;
  let ticking = true;
  const tick = (): void => {
    turn++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const chunks: { rows: Row[]; turn: number }[] = [];
  return {
    chunks,
    takesPacketRows,
    fields: () => undefined,
    rows: (rows) => {
      chunks.push({ rows: rows as Row[], turn });
    },
    stop: () => (ticking = false),
  };
}

describe('shardRows: a shard result read whole goes on in slices', () => {
  for (const [name, onDemand, packetRows] of [
    ['rows decoded on demand', true, false],
    ['rows decoded whole by the connector', false, false],
    ['rows as their packets alone', true, true],
  ] as const) {
    it(name, async () => {
      const out = receiver(packetRows);
      await shardRows(context(shardResult(onDemand)), 'ks', '-80', 'select id from t', out);
      out.stop();
      // Every row, in order, with its packet; no chunk over a slice.
      expect(out.chunks.map((c) => c.rows.length)).toEqual([VALUES_PER_SLICE, VALUES_PER_SLICE, VALUES_PER_SLICE, 77]);
      let id = 0;
      for (const c of out.chunks) {
        const p = rowPacketsOf(c.rows)!;
        expect(p.sources).toHaveLength(c.rows.length);
        for (let i = 0; i < c.rows.length; i++, id++) {
          const [s, e] = [p.bounds[2 * i]!, p.bounds[2 * i + 1]!];
          expect(Buffer.from(p.sources[i]!.subarray(s + 1, e)).toString()).toBe(String(id));
          if (packetRows) expect(isPacketOnlyRow(c.rows[i]!)).toBe(true);
          else expect(Buffer.from(c.rows[i]![0] as Uint8Array).toString()).toBe(String(id));
        }
      }
      expect(id).toBe(ROWS);
      // Another client's queued callback ran between each two chunks.
      for (let i = 1; i < out.chunks.length; i++) expect(out.chunks[i]!.turn).toBeGreaterThan(out.chunks[i - 1]!.turn);
    });
  }

  it('a short result goes on in one chunk, at once', async () => {
    const out = receiver(false);
    const r = shardResult(false);
    const short = { ...r, rows: r.rows.slice(0, 10), packets: { sources: r.packets!.sources.slice(0, 10), bounds: r.packets!.bounds.slice(0, 20) } } as unknown as ShardResult;
    await shardRows(context(short), 'ks', '-80', 'select id from t', out);
    out.stop();
    expect(out.chunks.map((c) => c.rows.length)).toEqual([10]);
  });
});

describe('mergeSorted: buffered inputs are merged in slices', () => {
  it('hands on every row in order, with a turn of the event loop every slice of rows', async () => {
    const { mergeSorted } = await import('../src/operators/merge-sort.js');
    const n = 3 * VALUES_PER_SLICE;
    // Two shards' results, read whole, sorted on a number: evens and odds.
    const inputs = [0, 1].map((parity) => async (r: RowReceiver) => {
      r.fields(fields);
      await r.rows(Array.from({ length: n }, (_, i) => [Buffer.from(String(2 * i + parity))] as Row));
    });
    const byNumber = (a: Row, b: Row): number => Number(Buffer.from(a[0] as Uint8Array).toString()) - Number(Buffer.from(b[0] as Uint8Array).toString());
    const out = receiver(false);
    await mergeSorted(inputs, () => byNumber, out, { signal: new AbortController().signal });
    out.stop();
    const merged = out.chunks.flatMap((c) => c.rows.map((r) => Number(Buffer.from(r[0] as Uint8Array).toString())));
    expect(merged).toEqual(Array.from({ length: 2 * n }, (_, i) => i));
    // The chunks of one slice go at once; the next slice waits for a turn.
    let rowsSinceTurn = 0;
    let most = 0;
    for (let i = 0; i < out.chunks.length; i++) {
      if (i > 0 && out.chunks[i]!.turn > out.chunks[i - 1]!.turn) rowsSinceTurn = 0;
      rowsSinceTurn += out.chunks[i]!.rows.length;
      most = Math.max(most, rowsSinceTurn);
    }
    expect(most).toBeLessThanOrEqual(VALUES_PER_SLICE + 256);
  });
});
