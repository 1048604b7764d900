/**
 * Route: sends one query to the shards its variant selects and passes their rows on
 * (concatenated as they arrive, or merged in ORDER BY order through MergeSort).
 */
import { parseSysSchemaBind, type BindValue, type BindVars, type QueryTemplate, type RoutePrimitive, type SqlValue } from '@shardgate/planner';
import { ExecutorError, ER_NOT_SUPPORTED_YET, ER_UNKNOWN_ERROR, hasMysqlCode } from '../errors.js';
import { childAbort, copyBindVars, extendBindVars, type QueryContext } from '../query-context.js';
import { FieldsOnce, trimFields, trimRow, visibleColumns, type RowReceiver } from '../row-flow.js';
import type { ShardResult, StreamHandlers } from '../shard-pool.js';
import { packetOnlyChunk, packetOnlyRow, rowsWithPackets, sliceWithPackets, walkRowPackets, withRowPackets } from '../row-packets.js';
import type { DmlOutcome, Row } from '../types.js';
import { renderTemplate, renderTemplateInSlices } from '../values/render-query.js';
import { VALUES_PER_SLICE, yieldThen, yieldToEventLoop } from '../event-loop-yield.js';
import { evalList, evalScalar } from '../values/value-expr.js';
import { keyspaceIdsFor } from '../vindex-resolver.js';
import type { KeyspaceShards } from '../keyspace-routing.js';
import { mergeSorted, orderComparator, type SortedReceiver } from './merge-sort.js';

export interface RouteTarget {
  readonly shard: string;
  /** Bind vars for this shard (IN routes rebind the list to this shard's values). */
  readonly bindVars: BindVars;
  /** The shard's keyspace when it is not the route's (an information_schema query naming another keyspace). */
  readonly keyspace?: string;
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
      return dbaTargets(ctx, route, bv, ks);
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
      if (ksids === 'allShards') {
        if (route.variant === 'EqualUnique' && !concatenationIsExact(route.query)) throw ambiguousUniqueValue(route, value);
        return all();
      }
      const shards = [...new Set(ksids.map((k) => ks.shardForKeyspaceId(k)))];
      return shards.map((shard) => ({ shard, bindVars: bv }));
    }
    case 'IN':
    case 'MultiEqual': {
      const values = evalList(requireValues(route)[0], bv);
      const ksids = await keyspaceIdsFor(ctx, route.keyspace.name, requireVindex(route), values);
      const perShard = new Map<string, SqlValue[]>();
      if (ksids.some((k) => k === 'allShards')) return all();
      for (let i = 0; i < values.length; i++) {
        if (i > 0 && i % VALUES_PER_SLICE === 0) await yieldToEventLoop();
        for (const k of ksids[i] as readonly Uint8Array[]) {
          const shard = ks.shardForKeyspaceId(k);
          const list = perShard.get(shard) ?? [];
          list.push(values[i]!);
          perShard.set(shard, list);
        }
      }
      const inBind = route.variant === 'IN' ? route.inListBind : undefined;
      return [...perShard.entries()]
        .sort((a, b) => ks.shards.indexOf(a[0]) - ks.shards.indexOf(b[0]))
        .map(([shard, list]) => ({ shard, bindVars: inBind ? extendBindVars(bv, { [inBind]: list }) : bv }));
    }
    default:
      throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `unknown route variant ${route.variant}`);
  }
}

/**
 * Whether running a route's SQL on several shards and concatenating the rows answers it exactly:
 * no aggregate, grouping, DISTINCT, ORDER BY, LIMIT, window, UNION, join or subquery, each of
 * which an EqualUnique route leaves whole to its one shard. Read from the SQL text, so a word like
 * `count` inside a string literal also counts: it can only refuse more, never answer wrongly.
 */
function concatenationIsExact(query: QueryTemplate): boolean {
  const text = query.parts.map((p) => (typeof p === 'string' ? p : ' ? ')).join('');
  if ((text.match(/\bselect\b/gi) ?? []).length > 1) return false;
  if (/,/.test(/\bfrom\b([\s\S]*?)(?:\bwhere\b|$)/i.exec(text)?.[1] ?? '')) return false;
  return !/\b(group|order|limit|distinct|having|join|union|over|count|sum|avg|min|max|group_concat|std|stddev|stddev_pop|stddev_samp|variance|var_pop|var_samp|bit_and|bit_or|bit_xor|json_arrayagg|json_objectagg|any_value|for\s+update)\b/i.test(text);
}

/**
 * An EqualUnique route whose value may equal rows on several shards (a string such as ' 3' or
 * '3abc' compared with an integer vindex column, a binary value): the plan left aggregation,
 * ordering or a join whole to one shard, so the rows of several shards cannot simply be added up.
 */
function ambiguousUniqueValue(route: RoutePrimitive, value: SqlValue): ExecutorError {
  const shown = value instanceof Uint8Array ? `0x${Buffer.from(value).toString('hex')}` : String(value);
  return new ExecutorError(
    ER_NOT_SUPPORTED_YET,
    '42000',
    `This query is not supported by shardgate; not supported: the value ${shown.slice(0, 64)} compared with unique vindex ${route.vindex ?? ''} of ${route.keyspace.name} may equal rows on several shards, and the statement's aggregation, DISTINCT, ORDER BY, LIMIT, join or subquery needs them on one; compare with a value of the column's type`,
  );
}

/** The schema-name binds of a DBA route's SQL (see SysSchemaBind), once each. */
function schemaBindsOf(query: QueryTemplate): { name: string; list: boolean; source: string; comparison: number; combinable: boolean }[] {
  const out: { name: string; list: boolean; source: string; comparison: number; combinable: boolean }[] = [];
  for (const part of query.parts) {
    if (typeof part === 'string') continue;
    const list = 'list' in part;
    const name = list ? part.list : part.bind;
    const b = parseSysSchemaBind(name);
    if (b && !out.some((x) => x.name === name)) out.push({ name, list, ...b });
  }
  return out;
}

/** A compared schema value as the name it is (a string or bytes the client sent). */
function schemaName(v: SqlValue): string | null {
  if (v === null) return null;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  return String(v);
}

/**
 * An information_schema query (Vitess's routeInfoSchemaQuery, extended to several keyspaces):
 * sent to the first shard of each keyspace its schema-name binds name, each shard seeing its own
 * database name in place of its keyspace's name and NULL in place of another keyspace's (rows
 * from one keyspace only, even when keyspaces share a server); the rows are concatenated. Names
 * of no keyspace (`information_schema`, a database outside the gateway) are asked of the route's
 * keyspace (the session's), as is a query without schema-name binds. AND-ed comparisons that name
 * different keyspaces, and several keyspaces under ORDER BY, LIMIT, aggregation and the like,
 * would need rows of several shards at once: refused, as Vitess refuses two schemas.
 */
function dbaTargets(ctx: QueryContext, route: RoutePrimitive, bv: BindVars, ks: KeyspaceShards): RouteTarget[] {
  const binds = schemaBindsOf(route.query);
  if (binds.length === 0) return [{ shard: ks.shards[0], bindVars: bv }];
  const home = route.keyspace.name;
  const keyspaceNamed = (name: string | null): KeyspaceShards | null => {
    if (name === null || ctx.routing.vschema.keyspace(name) === undefined) return null;
    try {
      return ctx.routing.shardsOf(name);
    } catch {
      return null;
    }
  };
  // Comparison → the keyspaces its values name (in order of appearance).
  const named = new Map<number, string[]>();
  const values = new Map<string, readonly SqlValue[]>();
  let others = false;
  let combinable = true;
  for (const b of binds) {
    const raw = bv[b.source] as BindValue | undefined;
    // No value: an EXPLAIN, whose own values were written into its text. It is explained as
    // comparing with the session keyspace's database.
    const list: readonly SqlValue[] = raw === undefined ? [ks.databaseOf(ks.shards[0])] : Array.isArray(raw) ? (raw as SqlValue[]) : [raw as SqlValue];
    values.set(b.name, list);
    combinable &&= b.combinable;
    const kss = named.get(b.comparison) ?? [];
    named.set(b.comparison, kss);
    if (raw === undefined) continue;
    for (const v of list) {
      const name = schemaName(v);
      if (keyspaceNamed(name)) {
        if (!kss.includes(name!)) kss.push(name!);
      } else if (name !== null) others = true;
    }
  }
  const sets = [...named.values()];
  const keyspaces = sets[0]!;
  if (sets.some((s) => s.length !== keyspaces.length || s.some((k) => !keyspaces.includes(k)))) {
    throw new ExecutorError(1235, '42000', 'This version of shardgate does not yet support comparing schema names of different keyspaces in one information_schema query');
  }
  const rebind = (map: (v: SqlValue) => SqlValue): BindVars => {
    const extra: BindVars = {};
    for (const b of binds) {
      const list = values.get(b.name)!;
      extra[b.name] = b.list ? list.map(map) : map(list[0] ?? null);
    }
    return extendBindVars(bv, extra);
  };
  if (keyspaces.length === 0) return [{ shard: ks.shards[0], bindVars: rebind((v) => v) }];
  const targets: { keyspace: string; shards: KeyspaceShards }[] = keyspaces.map((k) => ({ keyspace: k, shards: keyspaceNamed(k)! }));
  if (others && !keyspaces.includes(home)) targets.push({ keyspace: home, shards: ks });
  if (targets.length > 1 && !combinable) {
    throw new ExecutorError(1235, '42000', 'This version of shardgate does not yet support an information_schema query over several keyspaces with ORDER BY, LIMIT, GROUP BY, aggregates, DISTINCT, UNION or a subquery');
  }
  return targets.map(({ keyspace, shards }) => {
    const shard = shards.shards[0];
    const database = shards.databaseOf(shard);
    const bindVars = rebind((v) => {
      const name = schemaName(v);
      if (name === null) return null;
      if (name === keyspace) return database;
      if (keyspaces.includes(name)) return null;
      return keyspace === home ? v : null;
    });
    return keyspace === home ? { shard, bindVars } : { shard, bindVars, keyspace };
  });
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
const noDispose = (): void => {};

export async function fanOut<T extends { shard: string }>(
  ctx: QueryContext,
  keyspace: string,
  targets: readonly T[],
  work: (target: T, signal: AbortSignal) => Promise<void>,
  errorsAsWarnings = false,
  /**
   * Given the function that aborts every target's signal (as a failing target does), when the
   * targets run under a signal of fanOut's own (more than one target): a consumer of their rows
   * (MergeSort) stops them through it instead of linking a controller of its own.
   */
  exposeAbort?: (abort: (reason: unknown) => void) => void,
): Promise<void> {
  if (targets.length === 1) {
    await work(targets[0], ctx.signal);
    return;
  }
  // The targets' signal: a Limit's own controller when this is the first fan-out under it (its
  // signal is ctx.signal, and whatever a failure here aborts besides this fan-out's targets is
  // under the Limit, which fails with this error anyway), else a child of ctx.signal.
  const own = ctx.takeOwnAbort();
  const { controller, dispose } = own !== null ? { controller: own, dispose: noDispose } : childAbort(ctx.signal);
  exposeAbort?.((reason) => controller.abort(reason));
  // Concurrency rule: `firstError` is written once, synchronously, by the first failing sibling.
  let firstError: unknown = null;
  let failures = 0;
  const failed = (err: unknown): void => {
    if (errorsAsWarnings && !ctx.signal.aborted && hasMysqlCode(err) && !controller.signal.aborted) {
      failures++;
      ctx.warnings.push({ level: 'Warning', code: err.errno, message: `${err.message}` });
      return;
    }
    if (firstError === null) {
      firstError = err;
      controller.abort(err);
    }
  };
  const signal = controller.signal;
  try {
    // A `then` per target rather than an async closure: one promise and frame fewer per shard.
    await Promise.all(
      targets.map((t) => {
        let running: Promise<void>;
        try {
          running = work(t, signal);
        } catch (err) {
          running = Promise.reject(err);
        }
        return running.then(undefined, failed);
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
  if (ctx.settings.fieldsOnly === true) {
    // Columns only (a prepare): the parameters are unknown (bound as NULL), so the query is
    // wrapped in LIMIT 0, which MariaDB answers with the columns without reading a row.
    const ks = ctx.routing.shardsOf(keyspace);
    const r = await ctx.access.query(keyspace, ks.shards[0], `(${renderTemplate(route.query, bv)}) LIMIT 0`, ctx.signal);
    out.fields(trimFields(r.fields, visibleColumns(route)));
    return;
  }
  const resolved = resolveRouteTargets(ctx, route, bv);
  const targets = resolved instanceof Promise ? await resolved : resolved;
  const resultColumns = visibleColumns(route);
  if (targets.length === 0) {
    // Nothing can match, but the client still needs the columns, and a statement that answers
    // even over no rows (`select count(*), max(x) … where 1 = 0`: one row, 0 and NULL, typed as
    // MariaDB types them) needs that answer: one shard runs the statement itself, over its rows
    // none of which match, so what it returns is exactly what one MariaDB would.
    const ks = ctx.routing.shardsOf(keyspace);
    const sql = renderTemplate(route.fieldQuery ?? route.query, bv);
    const r = await ctx.access.query(keyspace, ks.shards[0], sql, ctx.signal);
    out.fields(trimFields(r.fields, resultColumns));
    if (route.fieldQuery === undefined && r.rows.length > 0) await out.rows(resultColumns === undefined ? r.rows.slice() : r.rows.map((row) => trimRow(row, resultColumns)));
    return;
  }
  const errorsAsWarnings = route.scatterErrorsAsWarnings ?? ctx.settings.scatterErrorsAsWarnings;
  if (route.orderBy && route.orderBy.length > 0 && targets.length > 1) {
    const orderBy = route.orderBy;
    const sqlFor = renderingOnce(route.query);
    await mergeSorted(
      targets.map((t) => (receiver: SortedReceiver, signal: AbortSignal) => {
        const sql = sqlFor(t.bindVars);
        const run = (text: string) => shardRows(ctx.withSignal(signal), t.keyspace ?? keyspace, t.shard, text, receiver);
        return typeof sql === 'string' ? run(sql) : sql.then(run);
      }),
      (fields) => orderComparator(orderBy, fields),
      {
        fields: (f) => out.fields(trimFields(f, resultColumns)),
        // The merge trims the rows (to resultColumns), keeping their shard packets.
        rows: (rows) => out.rows(rows),
        rowsWanted: out.rowsWanted,
        takesPacketRows: out.takesPacketRows,
      },
      ctx,
      (producers, exposeAbort) => fanOut(ctx, keyspace, producers, (p, signal) => p.run(signal), errorsAsWarnings, exposeAbort),
      resultColumns,
    );
    return;
  }
  const fieldsOnce = new FieldsOnce((f) => out.fields(trimFields(f, resultColumns)));
  const receiver: RowReceiver & StreamHandlers = {
    fields: (f) => fieldsOnce.fields(f),
    rows: (rows) => out.rows(resultColumns === undefined ? rows : rows.map((r) => trimRow(r, resultColumns))),
    // Rows concatenated as they are, straight to the client: streamed as the shards' row packets,
    // in bulk (row-packets.ts). Not with columns to trim, nor when `out` is an operator.
    rowPacketTarget: resultColumns === undefined ? out.packetTarget?.() : undefined,
    // Rows pass on unchanged when nothing is trimmed: whole shard rows, packets and all.
    takesPacketRows: resultColumns === undefined ? out.takesPacketRows : undefined,
  };
  if (targets.length === 1) {
    // One shard (unsharded keyspaces, most OLTP reads): what fanOut does for one target, minus a
    // closure and a promise per statement.
    const sql = renderTemplateInSlices(route.query, targets[0].bindVars);
    await shardRows(ctx, targets[0].keyspace ?? keyspace, targets[0].shard, typeof sql === 'string' ? sql : await sql, receiver);
  } else {
    const sqlFor = renderingOnce(route.query);
    await fanOut(
      ctx,
      keyspace,
      targets,
      (t, signal) => {
        const sql = sqlFor(t.bindVars);
        const run = (text: string) => shardRows(ctx.withSignal(signal), t.keyspace ?? keyspace, t.shard, text, receiver);
        return typeof sql === 'string' ? run(sql) : sql.then(run);
      },
      errorsAsWarnings,
    );
  }
  if (!fieldsOnce.done) {
    // Every shard failed as a warning: answer with the columns only.
    const ks = ctx.routing.shardsOf(keyspace);
    const r = await ctx.access.query(keyspace, ks.shards[0], renderTemplate(route.fieldQuery ?? route.query, copyBindVars(bv)), ctx.signal).catch(() => null);
    out.fields(trimFields(r?.fields ?? [], resultColumns));
  }
}

/**
 * renderTemplateInSlices of one template, done once per bind-vars object: the targets of a
 * scatter, or of an IN route that sends every shard the whole statement, share their bind vars
 * and so one rendering (proportional to the statement: the 50,000 terms of an OR chain).
 * Concurrency rule: the map is filled synchronously as the targets start; a shared entry is an
 * immutable string or one promise of it that every target awaits.
 */
function renderingOnce(template: QueryTemplate): (bindVars: BindVars) => string | Promise<string> {
  const rendered = new Map<BindVars, string | Promise<string>>();
  return (bindVars) => {
    let sql = rendered.get(bindVars);
    if (sql === undefined) rendered.set(bindVars, (sql = renderTemplateInSlices(template, bindVars)));
    return sql;
  };
}

/**
 * One shard's rows into `out`: streamed (OLAP) or read whole first (OLTP, reserved sessions). A
 * merge input (SortedReceiver) gets a result read whole as rows it decodes on demand, when the
 * connector can decode them one at a time.
 */
export async function shardRows(ctx: QueryContext, keyspace: string, shard: string, sql: string, out: RowReceiver | SortedReceiver): Promise<void> {
  if (ctx.streaming) {
    await ctx.access.stream(keyspace, shard, sql, out, ctx.signal);
    return;
  }
  const r = await ctx.access.query(keyspace, shard, sql, ctx.signal);
  if (!r.isResultSet) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `expected rows from ${keyspace}/${shard}, got an OK packet`);
  out.fields(r.fields);
  if ('lazyRows' in out && out.lazyRows !== undefined && r.rowAt !== undefined && r.rowCount !== undefined) {
    const written = out.lazyRows(r.rowCount, (i) => r.rowAt!(i), r.packetWalker !== undefined ? r.packetWalker() : r.packets !== undefined ? walkRowPackets(r.packets) : undefined);
    if (written !== undefined) await written;
    return;
  }
  const packetOnly = out.takesPacketRows === true && r.packets !== undefined && r.rowCount !== undefined;
  const count = r.rowCount ?? r.rows.length;
  if (count > VALUES_PER_SLICE) {
    await shardResultInSlices(ctx, r, count, packetOnly, out);
    return;
  }
  if (packetOnly) {
    // Written from the packets alone (row-packets.ts): the reply is never decoded.
    if (count === 0) return;
    const written = out.rows(packetOnlyChunk(count, r.fields.length, r.packets!));
    if (written !== undefined) await written;
    return;
  }
  if (r.rows.length > 0) {
    // Receivers that take rows synchronously return nothing: skip the await (a microtask hop).
    const written = out.rows(rowsWithPackets(r));
    if (written !== undefined) await written;
  }
}

/**
 * A shard result read whole and longer than a slice, handed on (and decoded, when the connector
 * decodes rows on demand) VALUES_PER_SLICE rows at a time with a turn of the event loop between
 * chunks. As one chunk, a receiver that works on every row (DISTINCT, an aggregate, the client's
 * encoder) held every other client for the whole result: 75,000 rows per shard in OLTP.
 */
async function shardResultInSlices(ctx: QueryContext, r: ShardResult, count: number, packetOnly: boolean, out: RowReceiver): Promise<void> {
  const p = r.packets;
  const decodedWhole = !packetOnly && r.rowAt === undefined ? rowsWithPackets(r) : null;
  for (let start = 0; start < count; start += VALUES_PER_SLICE) {
    if (start > 0) await yieldThen(() => ctx.throwIfAborted());
    const end = Math.min(count, start + VALUES_PER_SLICE);
    let chunk: Row[];
    if (decodedWhole !== null) {
      chunk = sliceWithPackets(decodedWhole, start, end);
    } else {
      chunk = new Array<Row>(end - start);
      if (packetOnly) chunk.fill(packetOnlyRow(r.fields.length));
      else for (let i = start; i < end; i++) chunk[i - start] = r.rowAt!(i);
      if (p !== undefined) chunk = withRowPackets(chunk, p.sources.slice(start, end), p.bounds.slice(2 * start, 2 * end));
    }
    const written = out.rows(chunk);
    if (written !== undefined) await written;
  }
}

/** UPDATE/DELETE and other row-less statements on a route's shards: affected rows summed. */
export async function runRouteWrite(ctx: QueryContext, route: RoutePrimitive, bindVars: BindVars): Promise<DmlOutcome> {
  ctx.onRouteVariant(route.variant);
  const bv = withSpecialBinds(ctx, bindVars);
  const resolved = resolveRouteTargets(ctx, route, bv, true);
  return runRouteWriteOn(ctx, route, resolved instanceof Promise ? await resolved : resolved);
}

/** The write on targets resolved beforehand (an UPDATE must not re-resolve through a lookup row it just moved). */
export async function runRouteWriteOn(ctx: QueryContext, route: RoutePrimitive, targets: readonly RouteTarget[]): Promise<DmlOutcome> {
  const keyspace = route.keyspace.name;
  // Concurrency rule: each shard's callback pushes its result synchronously; read after fanOut.
  const results: ShardResult[] = [];
  // Each copy of a reference table warns alike: the statement keeps the first copy's warnings.
  const warningShard = route.variant === 'Reference' ? targets[0]?.shard : undefined;
  await fanOut(ctx, keyspace, targets, async (t, signal) => {
    const access = warningShard !== undefined && t.shard !== warningShard ? ctx.sessionAccess : ctx.access;
    results.push(await access.query(keyspace, t.shard, renderTemplate(route.query, t.bindVars), signal));
  });
  const sum = new DmlOkSum();
  if (route.variant === 'Reference' && results.length > 0) {
    // Each copy of a reference table changes alike: count the rows once, not once per shard.
    sum.add(results.reduce((a, b) => (b.affectedRows > a.affectedRows ? b : a)));
  } else {
    for (const r of results) sum.add(r);
  }
  return sum.outcome({ info: true });
}

/**
 * Sums the OK packets of one statement's shards into the OK packet one MariaDB would send for the
 * whole statement. Shard connections run without CLIENT_FOUND_ROWS (see OkInfoCounts), so the
 * summed affected rows are right for a client without it, and the info counts give the rest.
 * Not shared: one per statement, fed after its shards answered.
 */
export class DmlOkSum {
  private affected = 0n;
  private insertId = 0n;
  private matched: bigint | null = null;
  private changed = 0n;
  private records: bigint | null = null;
  private duplicates = 0n;
  private infoWarnings = 0n;
  private shards = 0;
  /** Info text we cannot read (passed on when a single shard sent it). */
  private otherInfo: string | undefined;

  add(r: Pick<ShardResult, 'affectedRows' | 'insertId' | 'info' | 'counts'>): void {
    this.shards++;
    this.affected += r.affectedRows;
    if (this.insertId === 0n && r.insertId !== 0n) this.insertId = r.insertId;
    const c = r.counts;
    if (c?.matched !== undefined) {
      this.matched = (this.matched ?? 0n) + c.matched;
      this.changed += c.changed ?? 0n;
    } else if (c?.records !== undefined) {
      this.records = (this.records ?? 0n) + c.records;
      this.duplicates += c.duplicates ?? 0n;
    } else if (r.info !== undefined) {
      this.otherInfo = r.info;
    }
    this.infoWarnings += c?.warnings ?? 0n;
  }

  /**
   * `info`: send the info text (MariaDB sends none for a single-row INSERT). `upsert`: the
   * statement is an INSERT … ON DUPLICATE KEY UPDATE (its affected rows depend on FOUND_ROWS).
   */
  outcome(opts: { info: boolean; upsert?: boolean }): DmlOutcome {
    const w = this.infoWarnings;
    if (this.matched !== null) {
      const info = opts.info ? `Rows matched: ${this.matched}  Changed: ${this.changed}  Warnings: ${w}` : undefined;
      return {
        affectedRows: this.affected,
        insertId: this.insertId,
        infoText: info,
        matchedRows: this.matched,
        changedRows: this.changed,
        foundRows: { affectedRows: this.matched, infoText: info },
      };
    }
    if (this.records !== null) {
      const r = this.records;
      const d = this.duplicates;
      const info = opts.info ? `Records: ${r}  Duplicates: ${d}  Warnings: ${w}` : undefined;
      if (opts.upsert !== true) return { affectedRows: this.affected, insertId: this.insertId, infoText: info };
      // Without FOUND_ROWS, per row: inserted 1, updated 2, unchanged 0, and Duplicates counts the
      // updated rows. With it an unchanged row counts 1 and is a duplicate too. From
      // R = ins + upd + same, A = ins + 2·upd, D = upd: affected = R + D, duplicates = R − A + 2·D.
      const found = r - this.affected + 2n * d;
      return {
        affectedRows: this.affected,
        insertId: this.insertId,
        infoText: info,
        foundRows: { affectedRows: r + d, infoText: opts.info ? `Records: ${r}  Duplicates: ${found}  Warnings: ${w}` : undefined },
      };
    }
    return { affectedRows: this.affected, insertId: this.insertId, infoText: opts.info && this.shards === 1 ? this.otherInfo : undefined };
  }
}
