/**
 * Compares the copies of each reference table across the shards of its keyspace: row count and
 * MariaDB's CHECKSUM TABLE per shard. Every write to a reference table goes to every copy in one
 * transaction, but a copy can still drift (a write made on a shard directly, a multi-shard commit
 * that failed part way): this finds it.
 *
 * Concurrency: read-only; each shard is read on a connection of its pool, released after use.
 * A check racing writes may report a difference that a second check does not (the copies are read
 * one shard at a time, not at one instant), so report only what two checks agree on when alerting.
 */
import type { ShardConnector } from './shard-pool.js';

export interface ReferenceCopy {
  readonly shard: string;
  /** Rows in this copy; null when the shard could not be read. */
  readonly rows: string | null;
  /** CHECKSUM TABLE's value; null when the shard could not be read. */
  readonly checksum: string | null;
  readonly error?: string;
}

export interface ReferenceTableCheck {
  readonly keyspace: string;
  readonly table: string;
  readonly copies: readonly ReferenceCopy[];
  /** True when the copies differ in row count or checksum, or a copy could not be read. */
  readonly diverged: boolean;
}

/** What the check needs of a vschema: the reference tables of each sharded keyspace. */
export interface ReferenceTablesSource {
  readonly keyspaces: ReadonlyMap<string, { readonly sharded: boolean; readonly tables: ReadonlyMap<string, { readonly type: string }> }>;
}

export async function checkReferenceCopies(
  vschema: ReferenceTablesSource,
  connectorsOf: (keyspace: string) => readonly ShardConnector[],
): Promise<ReferenceTableCheck[]> {
  const out: ReferenceTableCheck[] = [];
  for (const [keyspace, ks] of vschema.keyspaces) {
    if (!ks.sharded) continue;
    for (const [table, t] of ks.tables) {
      if (t.type !== 'reference') continue;
      const copies = await Promise.all(connectorsOf(keyspace).map((c) => readCopy(c, table)));
      const first = copies[0];
      const diverged = copies.some((c) => c.error !== undefined || c.rows !== first?.rows || c.checksum !== first?.checksum);
      out.push({ keyspace, table, copies, diverged });
    }
  }
  return out;
}

/** A text-protocol cell (digits here) as a string. */
function text(cell: Uint8Array | null | undefined): string | null {
  return cell === null || cell === undefined ? null : Buffer.from(cell.buffer, cell.byteOffset, cell.byteLength).toString('latin1');
}

async function readCopy(connector: ShardConnector, table: string): Promise<ReferenceCopy> {
  const quoted = '`' + table.replace(/`/g, '``') + '`';
  let conn;
  try {
    conn = await connector.acquire();
  } catch (err) {
    return { shard: connector.shard, rows: null, checksum: null, error: (err as Error).message };
  }
  try {
    const count = await conn.query(`select count(*) from ${quoted}`);
    const sum = await conn.query(`checksum table ${quoted}`);
    // CHECKSUM TABLE answers (Table, Checksum); Checksum is NULL for a missing table.
    return { shard: connector.shard, rows: text(count.rows[0]?.[0]), checksum: text(sum.rows[0]?.[1]) };
  } catch (err) {
    return { shard: connector.shard, rows: null, checksum: null, error: (err as Error).message };
  } finally {
    await conn.release();
  }
}
