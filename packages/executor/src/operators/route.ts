/**
 * Route: sends one query to the shards its variant selects and passes their rows on
 * (concatenated as they arrive, or merged in ORDER BY order through MergeSort).
 */
import type { BindVars, RoutePrimitive, SqlValue } from '@shardgate/planner';
import { ExecutorError, ER_UNKNOWN_ERROR, hasMysqlCode } from '../errors.js';
import { childAbort, copyBindVars, extendBindVars, type QueryContext } from '../query-context.js';
import { FieldsOnce, trimFields, trimRow, visibleColumns, type OkOutcome, type RowReceiver } from '../row-flow.js';
import type { Row } from '../types.js';
import { renderTemplate } from '../values/render-query.js';
import { evalList, evalScalar } from '../values/value-expr.js';
import { keyspaceIdsFor } from '../vindex-resolver.js';
import type { KeyspaceShards } from '../keyspace-routing.js';
import { mergeSorted, orderComparator } from './merge-sort.js';

export interface RouteTarget {
  readonly shard: string;
  /** Bind vars for this shard (IN routes rebind the list to this shard's values). */
  readonly bindVars: BindVars;
}

/**
 * The shards a route goes to. Variants that need no vindex lookup answer synchronously (no
 * promise per statement on the unsharded and scatter paths); the others return a promise.
 */
export function resolveRouteTargets(ctx: QueryContext, route: RoutePrimitive, bv: BindVars, forWrite = false): RouteTarget[] | Promise<RouteTarget[]> {
  const ks = ctx.routing.shardsOf(route.keyspace.name);
  const all = (): RouteTarget[] => ks.shards.map((shard) => ({ shard, bindVars: bv }));
  switch (route.variant) {
    case 'Unsharded':
    case 'Next':
      return [{ shard: ks.shards[0], bindVars: bv }];
    case 'DBA':
      return [{ shard: ks.shards[0], bindVars: bv }];
    case 'Reference':
      // Reads: any one shard holds every row. Writes keep every copy in step.
      if (forWrite) return all();
      return [{ shard: ks.shards[Math.floor(Math.random() * ks.shards.length)], bindVars: bv }];
    case 'Scatter':
      return all();
    case 'None':
      return [];
    case 'ByDestination':
    case 'SubShard': {
      const names = route.targetShards ?? ks.shards;
      const shards = [...new Set(names.flatMap((n) => ks.shardsFor(n)))];
      return shards.map((shard) => ({ shard, bindVars: bv }));
    }
    default:
      return resolveVindexTargets(ctx, route, bv, ks, all);
  }
}

async function resolveVindexTargets(ctx: QueryContext, route: RoutePrimitive, bv: BindVars, ks: KeyspaceShards, all: () => RouteTarget[]): Promise<RouteTarget[]> {
  switch (route.variant) {
    case 'EqualUnique':
    case 'Equal': {
      const value = evalScalar(requireValues(route)[0], bv);
      const [ksids] = await keyspaceIdsFor(ctx, route.keyspace.name, requireVindex(route), [value]);
      if (ksids === 'allShards') return all();
      const shards = [...new Set(ksids.map((k) => ks.shardForKeyspaceId(k)))];
      return shards.map((shard) => ({ shard, bindVars: bv }));
    }
    case 'IN':
    case 'MultiEqual': {
      const values = evalList(requireValues(route)[0], bv);
      const ksids = await keyspaceIdsFor(ctx, route.keyspace.name, requireVindex(route), values);
      const perShard = new Map<string, SqlValue[]>();
      if (ksids.some((k) => k === 'allShards')) return all();
      values.forEach((v, i) => {
        for (const k of ksids[i] as readonly Uint8Array[]) {
          const shard = ks.shardForKeyspaceId(k);
          const list = perShard.get(shard) ?? [];
          list.push(v);
          perShard.set(shard, list);
        }
      });
      const inBind = route.variant === 'IN' ? route.inListBind : undefined;
      return [...perShard.entries()]
        .sort((a, b) => ks.shards.indexOf(a[0]) - ks.shards.indexOf(b[0]))
        .map(([shard, list]) => ({ shard, bindVars: inBind ? extendBindVars(bv, { [inBind]: list }) : bv }));
    }
    default:
      throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `unknown route variant ${route.variant}`);
  }
}

function requireValues(route: RoutePrimitive) {
  if (!route.values || route.values.length === 0) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `route ${route.variant} has no vindex values`);
  return route.values;
}

function requireVindex(route: RoutePrimitive): string {
  if (!route.vindex) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `route ${route.variant} has no vindex`);
  return route.vindex;
}

export function withSpecialBinds(ctx: QueryContext, bv: BindVars): BindVars {
  if (bv.__vtdbname !== undefined) return bv;
  const out = copyBindVars(bv);
  out.__vtdbname = ctx.settings.keyspace ?? null;
  return out;
}

/**
 * Runs `work` for every target concurrently. The first failure aborts the siblings (their shard
 * statements are killed) and is thrown once all have settled — unless scatter errors are
 * warnings, in which case failed shards become warnings and the healthy shards' rows stand.
 */
export async function fanOut<T extends { shard: string }>(
  ctx: QueryContext,
  keyspace: string,
  targets: readonly T[],
  work: (target: T, signal: AbortSignal) => Promise<void>,
  errorsAsWarnings = false,
): Promise<void> {
  if (targets.length === 1) {
    await work(targets[0], ctx.signal);
    return;
  }
  const { controller, dispose } = childAbort(ctx.signal);
  // Concurrency rule: `firstError` is written once, synchronously, by the first failing sibling.
  let firstError: unknown = null;
  let failures = 0;
  try {
    await Promise.all(
      targets.map(async (t) => {
        try {
          await work(t, controller.signal);
        } catch (err) {
          if (errorsAsWarnings && !ctx.signal.aborted && hasMysqlCode(err) && !controller.signal.aborted) {
            failures++;
            ctx.warnings.push({ level: 'Warning', code: err.errno, message: `${err.message}` });
            return;
          }
          if (firstError === null) {
            firstError = err;
            controller.abort(err);
          }
        }
      }),
    );
  } finally {
    dispose();
  }
  if (firstError !== null) throw firstError;
  if (errorsAsWarnings && failures === targets.length) {
    const w = ctx.warnings[ctx.warnings.length - 1];
    throw new ExecutorError(w.code, 'HY000', `every shard of ${keyspace} failed; last: ${w.message}`);
  }
}

export async function runRoute(ctx: QueryContext, route: RoutePrimitive, bindVars: BindVars, out: RowReceiver): Promise<void> {
  ctx.onRouteVariant(route.variant);
  const bv = withSpecialBinds(ctx, bindVars);
  const keyspace = route.keyspace.name;
  const resolved = resolveRouteTargets(ctx, route, bv);
  const targets = resolved instanceof Promise ? await resolved : resolved;
  const resultColumns = visibleColumns(route);
  if (targets.length === 0) {
    // Nothing can match, but the client still needs the columns.
    const ks = ctx.routing.shardsOf(keyspace);
    const sql = renderTemplate(route.fieldQuery ?? route.query, bv);
    const r = await ctx.access.query(keyspace, ks.shards[0], sql, ctx.signal);
    out.fields(trimFields(r.fields, resultColumns));
    return;
  }
  const errorsAsWarnings = route.scatterErrorsAsWarnings ?? ctx.settings.scatterErrorsAsWarnings;
  if (route.orderBy && route.orderBy.length > 0 && targets.length > 1) {
    const orderBy = route.orderBy;
    await mergeSorted(
      targets.map((t) => (receiver: RowReceiver, signal: AbortSignal) => shardRows(ctx.withSignal(signal), keyspace, t.shard, renderTemplate(route.query, t.bindVars), receiver)),
      (fields) => orderComparator(orderBy, fields),
      { fields: (f) => out.fields(trimFields(f, resultColumns)), rows: (rows) => out.rows(resultColumns === undefined ? rows : rows.map((r) => trimRow(r, resultColumns))) },
      ctx,
      (producers) => fanOut(ctx, keyspace, producers, (p, signal) => p.run(signal), errorsAsWarnings),
    );
    return;
  }
  const fieldsOnce = new FieldsOnce((f) => out.fields(trimFields(f, resultColumns)));
  const receiver: RowReceiver = {
    fields: (f) => fieldsOnce.fields(f),
    rows: (rows) => out.rows(resultColumns === undefined ? rows : rows.map((r) => trimRow(r, resultColumns))),
  };
  if (targets.length === 1) {
    // One shard (unsharded keyspaces, most OLTP reads): what fanOut does for one target, minus a
    // closure and a promise per statement.
    await shardRows(ctx, keyspace, targets[0].shard, renderTemplate(route.query, targets[0].bindVars), receiver);
  } else {
    await fanOut(ctx, keyspace, targets, (t, signal) => shardRows(ctx.withSignal(signal), keyspace, t.shard, renderTemplate(route.query, t.bindVars), receiver), errorsAsWarnings);
  }
  if (!fieldsOnce.done) {
    // Every shard failed as a warning: answer with the columns only.
    const ks = ctx.routing.shardsOf(keyspace);
    const r = await ctx.access.query(keyspace, ks.shards[0], renderTemplate(route.fieldQuery ?? route.query, copyBindVars(bv)), ctx.signal).catch(() => null);
    out.fields(trimFields(r?.fields ?? [], resultColumns));
  }
}

/** One shard's rows into `out`: streamed (OLAP) or read whole first (OLTP, reserved sessions). */
export async function shardRows(ctx: QueryContext, keyspace: string, shard: string, sql: string, out: RowReceiver): Promise<void> {
  if (ctx.streaming) {
    await ctx.access.stream(keyspace, shard, sql, out, ctx.signal);
    return;
  }
  const r = await ctx.access.query(keyspace, shard, sql, ctx.signal);
  if (!r.isResultSet) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `expected rows from ${keyspace}/${shard}, got an OK packet`);
  out.fields(r.fields);
  if (r.rows.length > 0) {
    // Receivers that take rows synchronously return nothing: skip the await (a microtask hop).
    const written = out.rows(r.rows as Row[]);
    if (written !== undefined) await written;
  }
}

/** UPDATE/DELETE and other row-less statements on a route's shards: affected rows summed. */
export async function runRouteWrite(ctx: QueryContext, route: RoutePrimitive, bindVars: BindVars): Promise<OkOutcome> {
  ctx.onRouteVariant(route.variant);
  const bv = withSpecialBinds(ctx, bindVars);
  const resolved = resolveRouteTargets(ctx, route, bv, true);
  return runRouteWriteOn(ctx, route, resolved instanceof Promise ? await resolved : resolved);
}

/** The write on targets resolved beforehand (an UPDATE must not re-resolve through a lookup row it just moved). */
export async function runRouteWriteOn(ctx: QueryContext, route: RoutePrimitive, targets: readonly RouteTarget[]): Promise<OkOutcome> {
  const keyspace = route.keyspace.name;
  let affected = 0n;
  let maxAffected = 0n;
  let insertId = 0n;
  await fanOut(ctx, keyspace, targets, async (t, signal) => {
    const r = await ctx.access.query(keyspace, t.shard, renderTemplate(route.query, t.bindVars), signal);
    affected += r.affectedRows;
    if (r.affectedRows > maxAffected) maxAffected = r.affectedRows;
    if (insertId === 0n && r.insertId !== 0n) insertId = r.insertId;
  });
  // Each copy of a reference table changes alike: count the rows once, not once per shard.
  return { affectedRows: route.variant === 'Reference' ? maxAffected : affected, insertId };
}
