/**
 * Per-plan statistics for the status page, like Vitess's /debug/query_plans: for each plan the
 * plan cache handed out, its normalized query, plan type, keyspace, executions, total time,
 * rows and errors.
 *
 * The executor asks the planner for each statement's plan; the gateway hands it a planner that
 * notes the plan in the context of the statement being started (`runStatement`). The executor
 * calls the planner synchronously at the start of `execute()`, before its first await, so the
 * context is a plain slot set only for that synchronous call: no AsyncLocalStorage (its promise
 * hooks cost every promise in the process). A planner call made later, after an await, finds the
 * slot empty and is not counted, so a plan is never attributed to the wrong statement. Cached plans are shared objects, so statistics are keyed by plan
 * identity, and the normalized text and plan type are computed once, when a plan is first seen
 * (no literal values are kept, so no row data ever reaches the page).
 *
 * Concurrency rule: `byPlan` is updated synchronously in `record` (no await between its read
 * and write); readers (`top`) copy. `current` is set and restored around one synchronous call.
 */
import type { PlannerLike } from '@shardgate/executor';
import { normalize, toVitessJson, type Plan } from '@shardgate/planner';

export interface StatementContext {
  /** Set by the planner wrapper; null when the statement needed no plan (SET, USE…). */
  plan: Plan | null;
  sql: string;
}

export interface QueryPlanRow {
  readonly query: string;
  readonly planType: string;
  readonly keyspace: string;
  executions: number;
  totalSeconds: number;
  rows: number;
  errors: number;
}

const MAX_PLANS = 1_000;

export class QueryPlanStats {
  private current: StatementContext | undefined = undefined;
  private readonly byPlan = new Map<Plan, QueryPlanRow>();

  /** Calls `start` (which starts the statement: `session.execute`) with `ctx` as the current statement. */
  runStatement<T>(ctx: StatementContext, start: () => T): T {
    const previous = this.current;
    this.current = ctx;
    try {
      return start();
    } finally {
      this.current = previous;
    }
  }

  /** The planner the executor uses: `inner`, with each plan noted in the statement's context. */
  wrapPlanner(inner: PlannerLike): PlannerLike {
    return {
      plan: (sql, opts) => {
        const store = this.current;
        const result = inner.plan(sql, opts);
        if (store === undefined) return result;
        // Keep the synchronous shape of a cache hit: the executor awaits only real promises.
        if (result instanceof Promise) {
          return result.then((planned) => {
            store.plan = planned.plan as Plan;
            return planned;
          });
        }
        store.plan = result.plan as Plan;
        return result;
      },
    };
  }

  record(ctx: StatementContext, seconds: number, rows: number, failed: boolean): void {
    const plan = ctx.plan;
    if (plan === null) return;
    let row = this.byPlan.get(plan);
    if (row === undefined) {
      if (this.byPlan.size >= MAX_PLANS) this.evictHalf();
      row = { query: normalizedText(ctx.sql), ...describe(plan), executions: 0, totalSeconds: 0, rows: 0, errors: 0 };
      this.byPlan.set(plan, row);
    }
    row.executions++;
    row.totalSeconds += seconds;
    row.rows += rows;
    if (failed) row.errors++;
  }

  /** The normalized text recorded for a plan ('' if it was never recorded). */
  normalized(plan: Plan): string {
    return this.byPlan.get(plan)?.query ?? '';
  }

  /** The plans with the most total time, as copies. */
  top(n: number): QueryPlanRow[] {
    return [...this.byPlan.values()]
      .sort((a, b) => b.totalSeconds - a.totalSeconds)
      .slice(0, n)
      .map((r) => ({ ...r }));
  }

  /** Bounded memory: forget the half of the plans that cost least so far. */
  private evictHalf(): void {
    const sorted = [...this.byPlan.entries()].sort((a, b) => a[1].totalSeconds - b[1].totalSeconds);
    for (const [plan] of sorted.slice(0, sorted.length / 2)) this.byPlan.delete(plan);
  }
}

/** Longest statement prefix normalized for display (status page, recent errors, slow-query log). */
export const DISPLAY_PREFIX_CHARS = 4096;

/**
 * The normalized text of a statement, for display: of its first DISPLAY_PREFIX_CHARS characters
 * only (then ending in ` …`), so that showing a megabyte statement costs the event loop no more
 * than a short one. A prefix cut inside a literal does not lex, which shows as not normalizable
 * rather than showing a piece of the value.
 */
export function normalizedText(sql: string): string {
  const cut = sql.length > DISPLAY_PREFIX_CHARS;
  try {
    const text = normalize(cut ? sql.slice(0, DISPLAY_PREFIX_CHARS) : sql).normalized;
    return cut ? `${text} …` : text;
  } catch {
    return '(not normalizable)';
  }
}

/** Top operator and variant (`Route Scatter`, `Insert Sharded`…) and the keyspace, from Vitess's JSON. */
function describe(plan: Plan): { planType: string; keyspace: string } {
  // No SQL text: only the shape is read, and text grows with the statement (50,000 literals).
  const json = toVitessJson(plan, { texts: false }) as { Instructions?: Record<string, unknown> };
  let node = json.Instructions;
  let keyspace = '';
  const topType = node ? [node.OperatorType, node.Variant].filter((x) => typeof x === 'string').join(' ') : plan.queryType;
  // The first node that names a keyspace (a join's keyspace is on its routes).
  const queue = node ? [node] : [];
  while (queue.length > 0 && keyspace === '') {
    node = queue.shift()!;
    const ks = node.Keyspace as { Name?: string } | undefined;
    if (ks?.Name) keyspace = ks.Name;
    for (const child of (node.Inputs as Record<string, unknown>[] | undefined) ?? []) queue.push(child);
  }
  return { planType: topType || String(plan.queryType), keyspace };
}
