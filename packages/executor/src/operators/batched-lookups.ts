/**
 * The inner route of a join, looked up for many outer rows in one query per shard.
 *
 * Each outer row's lookup is exactly the query it would run alone; a batch sends those queries to
 * a shard as the parts of one UNION ALL, each part parenthesized (so its own LIMIT holds) and
 * tagged with its row's number in an extra first column, and hands every row back to the part it
 * came from. MariaDB evaluates each part as it would evaluate the query alone, so each outer row
 * gets the rows, values and types it would get alone (identical parts aggregate to their own
 * column types); only the round trips change (Vitess's join sends one query per outer row, and
 * the inner side's cost dominated a cross-shard join here).
 *
 * Batched only where that equivalence is plain from the SQL text: a single SELECT (no UNION, no
 * ORDER BY or GROUP BY, which may name columns by position, no locking clause), whose bound join
 * values appear after its FROM (a value in the select list could change a column's type across
 * parts), on a route without a merge at the gateway. Anything else is looked up row by row.
 */
import type { BindVars, RoutePrimitive, SqlValue } from '@shardgate/planner';
import type { QueryContext } from '../query-context.js';
import { trimRow, visibleColumns, type BufferedRows } from '../row-flow.js';
import type { Row } from '../types.js';
import { renderTemplate } from '../values/render-query.js';
import { fanOut, resolveRouteTargets, withSpecialBinds, type RouteTarget } from './route.js';

/** Outer rows per batch: one query of up to this many parts per inner shard. */
export const LOOKUP_BATCH_ROWS = 128;
/** Largest batch statement sent; more parts go in another statement to the same shard. */
const BATCH_SQL_BYTES = 256 * 1024;

const SELECT_HEAD = /^\s*select\s+(?:(?:distinct|distinctrow|all|high_priority|straight_join|sql_\w+)\s+)*/i;
const NOT_BATCHABLE = /\bunion\b|\border\s+by\b|\bgroup\s+by\b|\bfor\s+update\b|\block\s+in\s+share\b|\binto\b|\bwindow\b|\bover\s*\(|\/\*|#|--/i;
const BATCHABLE_VARIANTS = new Set(['Scatter', 'EqualUnique', 'Equal', 'Unsharded', 'ByDestination']);

/** Whether `route`'s lookups can be batched (see the file comment). */
export function batchableLookup(route: RoutePrimitive): boolean {
  if (!BATCHABLE_VARIANTS.has(route.variant)) return false;
  if ((route.orderBy?.length ?? 0) > 0 || route.scatterErrorsAsWarnings === true) return false;
  const parts = route.query.parts;
  const first = parts[0];
  const head = typeof first === 'string' ? SELECT_HEAD.exec(first) : null;
  // An unqualified `*` must open the select list: the tag column cannot go before it.
  if (head === null || /^\s*\*/.test((first as string).slice(head[0].length))) return false;
  let beforeFirstBind = '';
  let seenBind = false;
  for (const part of parts) {
    if (typeof part !== 'string') {
      seenBind = true;
      continue;
    }
    if (NOT_BATCHABLE.test(part)) return false;
    if (!seenBind) beforeFirstBind += part;
  }
  return !seenBind || /\bfrom\b/i.test(beforeFirstBind);
}

/** One outer row's lookup in a batch. */
export interface LookupRequest {
  readonly bindVars: BindVars;
  readonly values: readonly SqlValue[];
}

/**
 * The inner rows of each request, in request order; `fields` are the inner query's own columns
 * (from a lookup run alone: a UNION's column metadata loses table names). Requests whose route
 * resolves to no shard, or to another keyspace, are looked up alone through `alone`.
 */
export async function batchedLookups(
  ctx: QueryContext,
  route: RoutePrimitive,
  requests: readonly LookupRequest[],
  fields: BufferedRows['fields'],
  alone: (bv: BindVars) => Promise<BufferedRows>,
): Promise<BufferedRows[]> {
  ctx.onRouteVariant(route.variant);
  const keyspace = route.keyspace.name;
  const results: Row[][] = requests.map(() => []);
  const standalone: Promise<void>[] = [];
  // Shard → the parts it runs, as [request index, that request's bind vars on this shard].
  const perShard = new Map<string, [number, BindVars][]>();
  for (let i = 0; i < requests.length; i++) {
    const bv = withSpecialBinds(ctx, requests[i].bindVars);
    const resolved = resolveRouteTargets(ctx, route, bv);
    const targets: RouteTarget[] = resolved instanceof Promise ? await resolved : resolved;
    if (targets.length === 0 || targets.some((t) => t.keyspace !== undefined)) {
      standalone.push(alone(requests[i].bindVars).then((r) => void results[i].push(...r.rows)));
      continue;
    }
    for (const t of targets) {
      const parts = perShard.get(t.shard) ?? [];
      parts.push([i, t.bindVars]);
      perShard.set(t.shard, parts);
    }
  }
  const head = SELECT_HEAD.exec(route.query.parts[0] as string)![0];
  const columns = visibleColumns(route);
  // Each shard's parts, rendered and cut into statements of at most BATCH_SQL_BYTES (a shard's
  // max_allowed_packet may be small), one query each.
  const queries: { shard: string; sql: string }[] = [];
  for (const [shard, parts] of perShard) {
    let sql = '';
    for (const [i, bv] of parts) {
      const one = renderTemplate(route.query, bv);
      const part = `(${head}${i} AS __sg_lookup, ${one.slice(head.length)})`;
      if (sql !== '' && sql.length + part.length > BATCH_SQL_BYTES) {
        queries.push({ shard, sql });
        sql = '';
      }
      sql = sql === '' ? part : `${sql} UNION ALL ${part}`;
    }
    if (sql !== '') queries.push({ shard, sql });
  }
  await Promise.all([
    ...standalone,
    fanOut(ctx, keyspace, queries, async ({ shard, sql }, signal) => {
      const r = await ctx.access.query(keyspace, shard, sql, signal);
      for (const row of r.rows as Row[]) {
        const tag = row[0];
        const i = tag === null ? -1 : Number(Buffer.from(tag.buffer, tag.byteOffset, tag.byteLength).toString('latin1'));
        const target = results[i];
        if (target === undefined) throw new Error(`batched lookup: a row tagged ${String(i)} matches no request`);
        target.push(trimRow(row.slice(1), columns));
      }
    }),
  ]);
  return results.map((rows) => ({ fields, rows }));
}
