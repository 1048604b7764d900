/**
 * Next: hands out ids from a Vitess-style sequence table (`id`, `next_id`, `cache`; one row with
 * id 0) in an unsharded keyspace. The reservation runs in its own short transaction on a pooled
 * connection, never in the session's transaction: the row lock serialises every gateway, and ids
 * stay used even if the caller's transaction rolls back (as with AUTO_INCREMENT).
 */
import type { BindVars, NextPrimitive } from '@shardgate/planner';
import { ExecutorError, ER_UNKNOWN_ERROR } from '../errors.js';
import type { QueryContext } from '../query-context.js';
import type { RowReceiver } from '../row-flow.js';
import { textCell } from '../values/cell-codec.js';
import { ColumnFlag, ColumnType } from '../values/column-types.js';
import { evalCount } from '../values/value-expr.js';

function splitName(sequence: string, keyspace: string): [string, string] {
  const i = sequence.indexOf('.');
  return i < 0 ? [keyspace, sequence] : [sequence.slice(0, i), sequence.slice(i + 1)];
}

/** Reserves `count` ids; returns the first. */
export async function reserveSequenceIds(ctx: QueryContext, keyspace: string, sequence: string, count: number): Promise<bigint> {
  const [ks, table] = splitName(sequence, keyspace);
  const shard = ctx.routing.shardsOf(ks).shards[0];
  const t = `\`${table.replace(/`/g, '``')}\``;
  return ctx.access.autonomous(ks, shard, async (conn) => {
    await conn.query('START TRANSACTION', { signal: ctx.signal });
    try {
      const r = await conn.query(`SELECT next_id FROM ${t} WHERE id = 0 FOR UPDATE`, { signal: ctx.signal });
      if (r.rows.length === 0 || r.rows[0][0] === null) {
        throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `sequence ${ks}.${table} has no row with id 0; initialise it with INSERT INTO ${table}(id, next_id, cache) VALUES (0, 1, 1000)`);
      }
      const next = BigInt(Buffer.from(r.rows[0][0]).toString('utf8'));
      await conn.query(`UPDATE ${t} SET next_id = ${next + BigInt(count)} WHERE id = 0`, { signal: ctx.signal });
      await conn.query('COMMIT', { signal: ctx.signal });
      return next;
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }, ctx.signal);
}

export async function runNext(ctx: QueryContext, p: NextPrimitive, bv: BindVars, out: RowReceiver): Promise<void> {
  const count = evalCount(p.count, bv, 'NEXT');
  const first = await reserveSequenceIds(ctx, p.keyspace.name, p.sequence, count);
  out.fields([{ catalog: 'def', schema: p.keyspace.name, table: '', orgTable: '', name: 'nextval', orgName: '', characterSet: 63, columnLength: 20, columnType: ColumnType.LONGLONG, flags: ColumnFlag.NOT_NULL | ColumnFlag.BINARY, decimals: 0 }]);
  await out.rows([[textCell(first.toString())]]);
}
