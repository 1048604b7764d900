/**
 * The result columns of a statement being prepared (COM_STMT_PREPARE), found before it runs.
 *
 * A MySQL server's prepare reply lists the columns a SELECT will return, and clients rely on it:
 * libmariadb's users (sysbench 1.0 among them) read `mysql_stmt_field_count()` right after
 * execute and, on 0, take the statement for one without rows, never read its result set, and
 * the next command on the connection fails with 2014 "Commands out of sync".
 *
 * The plan is run with every parameter NULL (or 0) in the `fieldsOnly` mode of QueryContext: each
 * route sends `(<its query>) LIMIT 0` to one shard, so the operators above it (projections,
 * aggregates, joins) see an empty input and produce the same columns as the real execution. The
 * shard queries run on pooled connections, outside the session's transaction, and read no rows.
 * Only plans made of read operators run; nothing is written, no sequence id is reserved.
 */
import type { Primitive, SessionPrimitive, SqlValue } from '@shardgate/planner';
import type { PlannerLike } from './executor-runtime.js';
import { QueryContext, type RoutingInfo, type ShardAccess } from './query-context.js';
import { CollectingReceiver } from './row-flow.js';
import { runPrimitive } from './primitive-runner.js';
import { textField } from './session-statements.js';
import type { ShardConnection, ShardResult, StreamHandlers } from './shard-pool.js';
import type { FieldInfo } from './types.js';

/** What the lookup needs from a session. */
export interface PrepareContext {
  readonly planner: PlannerLike;
  readonly routing: RoutingInfo;
  readonly keyspace: string | null;
  readonly userVariables: ReadonlyMap<string, SqlValue>;
  readonly maxMemoryRows: number;
  /** The session's collation_connection: the columns' types are those its statements get. */
  readonly connectionCollation?: string;
  /** Runs fn on a pooled connection outside any transaction (the session's `autonomous`). */
  autonomous<T>(keyspace: string, shard: string, fn: (conn: ShardConnection) => Promise<T>, signal: AbortSignal): Promise<T>;
}

/**
 * The columns `sql` will return, or [] for a statement that answers with OK, and for one whose
 * columns cannot be known beforehand (SHOW, NEXT, a statement the planner refuses: its execute
 * reports the error). Clients take the columns of the execute reply when the prepare reply had
 * none.
 */
export async function preparedColumns(p: PrepareContext, sql: string, paramCount: number, signal: AbortSignal): Promise<readonly FieldInfo[]> {
  // The parameters are unknown: NULL first; where NULL cannot stand (LIMIT ?, a gateway-side
  // count), 0. The columns do not depend on the values (clients take each execute's types).
  for (const placeholder of [null, 0] as const) {
    const columns = await columnsWith(p, sql, new Array<SqlValue>(paramCount).fill(placeholder), signal);
    if (columns !== undefined) return columns;
    if (signal.aborted) break;
  }
  return [];
}

/** The columns with these parameter values; [] for no result set; undefined if planning or the lookup failed. */
async function columnsWith(p: PrepareContext, sql: string, params: SqlValue[], signal: AbortSignal): Promise<readonly FieldInfo[] | undefined> {
  let planned;
  try {
    // userVariables: read by @shardgate/planner's Planner, not declared by PlannerLike (as in Session).
    const r = p.planner.plan(sql, { keyspace: p.keyspace, params, userVariables: p.userVariables } as { keyspace: string | null; params: SqlValue[] });
    planned = r instanceof Promise ? await r : r;
  } catch {
    return undefined;
  }
  const top = planned.plan.instructions;
  if (top.operator === 'Session') return sessionAnswerColumns(top);
  if (planned.plan.queryType !== 'SELECT' || !readsOnly(top)) return [];
  const access = new ColumnsOnlyAccess(p);
  const ctx = new QueryContext(access, p.routing, { workload: 'oltp', maxMemoryRows: p.maxMemoryRows, scatterErrorsAsWarnings: false, divPrecisionIncrement: 4, keyspace: p.keyspace, fieldsOnly: true }, signal);
  const out = new CollectingReceiver();
  const bv = { ...planned.bindVars, __vtdbname: p.keyspace, __lastInsertId: 0n, __vtuser: '', __vtcurrentuser: '', __vtconnectionid: 0n, __vtautocommit: 1n };
  try {
    await runPrimitive(ctx, top, bv, out);
  } catch {
    return undefined;
  }
  return out.fieldDefs ?? undefined;
}

/**
 * Columns of a statement the gateway answers itself, where they are known without running it
 * (`SELECT @@version, database()`, VEXPLAIN): their names, as text for now; the execute's reply
 * brings the real types. Others (SHOW, SET, BEGIN...) get none.
 */
function sessionAnswerColumns(p: SessionPrimitive): readonly FieldInfo[] {
  const st = p.statement;
  if (st.kind === 'select-system') return st.columns.map((c) => textField(c.name));
  if (st.kind === 'vexplain') return [textField('JSON')];
  return [];
}

/** Operators a column lookup runs: everything else (NEXT reserves ids, Send runs as written, the gateway answers Session itself) is left to the execute. */
const READ_OPERATORS: ReadonlySet<string> = new Set(['Route', 'Join', 'SemiJoin', 'UncorrelatedSubquery', 'SQLCalcFoundRows', 'Aggregate', 'Sort', 'Limit', 'Distinct', 'Concatenate', 'Projection', 'Filter']);
/** Where the read operators keep their inputs. */
const CHILD_KEYS = ['left', 'right', 'outer', 'inner', 'subquery', 'input', 'limitQuery', 'countQuery'] as const;

function readsOnly(p: Primitive): boolean {
  if (!READ_OPERATORS.has(p.operator)) return false;
  const node = p as unknown as Record<string, unknown>;
  for (const key of CHILD_KEYS) {
    const child = node[key];
    if (child !== undefined && !readsOnly(child as Primitive)) return false;
  }
  const inputs = node.inputs;
  return !Array.isArray(inputs) || inputs.every((c: Primitive) => readsOnly(c));
}

/** Shard access for column lookups: pooled connections, never the session's reserved ones. */
class ColumnsOnlyAccess implements ShardAccess {
  readonly mustBuffer = true;
  constructor(private readonly p: PrepareContext) {}

  query(keyspace: string, shard: string, sql: string, signal: AbortSignal): Promise<ShardResult> {
    return this.p.autonomous(keyspace, shard, (conn) => conn.query(sql, { signal, collation: this.p.connectionCollation }), signal);
  }

  stream(keyspace: string, shard: string, sql: string, handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
    return this.p.autonomous(keyspace, shard, (conn) => conn.stream(sql, handlers, { signal, collation: this.p.connectionCollation }), signal);
  }

  autonomous<T>(keyspace: string, shard: string, fn: (conn: ShardConnection) => Promise<T>, signal: AbortSignal): Promise<T> {
    return this.p.autonomous(keyspace, shard, fn, signal);
  }

  /**
   * On a pooled connection like everything else here, outside the session's transaction: the
   * columns do not depend on which lookup rows are found. (Routes in fieldsOnly mode resolve no
   * vindex, so no plan of read operators reaches this today.)
   */
  lookupRead(keyspace: string, shard: string, sql: string, signal: AbortSignal): Promise<ShardResult> {
    return this.query(keyspace, shard, sql, signal);
  }

  lookupWrite(): Promise<ShardResult> {
    // Only read operators run here (readsOnly): reaching here is a planner bug, not a reason to write.
    return Promise.reject(new Error('a column lookup tried to write a lookup vindex row'));
  }
}
