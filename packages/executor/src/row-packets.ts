/**
 * The shard's row packets that travel with a chunk of rows, so that rows nothing changed reach the
 * client as the bytes the shard sent instead of being encoded again.
 *
 * A text-protocol row packet is the same on both sides: each cell length-encoded, 0xFB for NULL,
 * and a cell here is exactly the shard's bytes. So a chunk whose rows are the shard's rows, whole
 * and in the shard's column order, may be written as its packets once the client has the column
 * definitions. Any operator that changes rows (trims, projects, merges, sorts) builds new arrays,
 * which carry no packets, and their rows are encoded as before.
 *
 * Concurrency rule: `packetsByChunk` is a WeakMap written once per chunk, when the connection
 * creates the chunk, and read afterwards; a chunk with packets is frozen, so it cannot change after
 * its packets were recorded (an in-place change would throw instead of sending stale bytes).
 */
import type { Row } from './types.js';

const packetsByChunk = new WeakMap<readonly Row[], readonly Uint8Array[]>();

/** Records `packets` (one per row, same order) for `rows`, and freezes the chunk. */
export function withRowPackets(rows: Row[], packets: readonly Uint8Array[]): Row[] {
  if (packets.length !== rows.length) return rows;
  Object.freeze(rows);
  packetsByChunk.set(rows, packets);
  return rows;
}

/** The shard's packets of this very chunk, if it has them. */
export function rowPacketsOf(rows: readonly Row[]): readonly Uint8Array[] | undefined {
  const p = packetsByChunk.get(rows);
  return p !== undefined && p.length === rows.length ? p : undefined;
}
