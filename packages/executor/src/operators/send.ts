/** Send: a statement sent as-is to every shard of a keyspace (DDL), or to any one shard. */
import type { BindVars, SendPrimitive } from '@shardgate/planner';
import type { QueryContext } from '../query-context.js';
import type { OkOutcome, RowReceiver } from '../row-flow.js';
import type { Row } from '../types.js';
import { renderTemplate } from '../values/render-query.js';
import { fanOut, withSpecialBinds } from './route.js';

export async function runSend(ctx: QueryContext, p: SendPrimitive, bindVars: BindVars, out: RowReceiver): Promise<OkOutcome | void> {
  ctx.onRouteVariant(p.allShards ? 'SendAllShards' : 'SendOneShard');
  const bv = withSpecialBinds(ctx, bindVars);
  const ks = ctx.routing.shardsOf(p.keyspace.name);
  const named = p.targetShards ? [...new Set(p.targetShards.flatMap((s) => ks.shardsFor(s)))] : ks.shards;
  const shards = p.allShards ? named : [named[0]];
  const sql = renderTemplate(p.query, bv);
  let affected = 0n;
  let rowsSent = false;
  await fanOut(ctx, p.keyspace.name, shards.map((shard) => ({ shard })), async (t, signal) => {
    const r = await ctx.access.query(p.keyspace.name, t.shard, sql, signal);
    if (r.isResultSet && !rowsSent) {
      rowsSent = true;
      out.fields(r.fields);
      if (r.rows.length > 0) await out.rows(r.rows as Row[]);
    }
    affected += r.affectedRows;
  });
  if (rowsSent) return;
  return { affectedRows: affected, insertId: 0n };
}
