/** Send: a statement sent as-is to every shard of a keyspace (DDL), or to any one shard. */
import type { BindVars, SendPrimitive } from '@shardgate/planner';
import type { QueryContext, Warning } from '../query-context.js';
import type { OkOutcome, RowReceiver } from '../row-flow.js';
import type { Row } from '../types.js';
import { renderTemplate } from '../values/render-query.js';
import { rowsWithPackets } from '../row-packets.js';
import { fanOut, withSpecialBinds } from './route.js';

export async function runSend(ctx: QueryContext, p: SendPrimitive, bindVars: BindVars, out: RowReceiver): Promise<OkOutcome | void> {
  ctx.onRouteVariant(p.allShards ? 'SendAllShards' : 'SendOneShard');
  const bv = withSpecialBinds(ctx, bindVars);
  const ks = ctx.routing.shardsOf(p.keyspace.name);
  const named = p.targetShards ? [...new Set(p.targetShards.flatMap((s) => ks.shardsFor(s)))] : ks.shards;
  const shards = p.allShards ? named : [named[0]];
  const sql = renderTemplate(p.query, bv);
  // Every shard runs the same DDL on the same schema and warns alike ("Table 't' already
  // exists"); one MariaDB warns once, so the statement keeps one shard's warnings, not their sum.
  const access = shards.length > 1 ? ctx.sessionAccess : ctx.access;
  /** Concurrency rule: replaced synchronously by each shard's callback once its result is in. */
  let warnings: readonly Warning[] = [];
  let affected = 0n;
  let rowsSent = false;
  await fanOut(ctx, p.keyspace.name, shards.map((shard) => ({ shard })), async (t, signal) => {
    const r = await access.query(p.keyspace.name, t.shard, sql, signal);
    if (r.warnings !== undefined && r.warnings.length > warnings.length) warnings = r.warnings;
    if (r.isResultSet && !rowsSent) {
      rowsSent = true;
      out.fields(r.fields);
      if (r.rows.length > 0) await out.rows(rowsWithPackets(r));
    }
    affected += r.affectedRows;
  });
  if (access !== ctx.access) for (const w of warnings) ctx.warnings.push(w);
  if (rowsSent) return;
  return { affectedRows: affected, insertId: 0n };
}
