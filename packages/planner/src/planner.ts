/**
 * The Planner: normalize (lexer only) → plan-cache lookup → on a miss, parse and build the plan
 * once for all concurrent callers (single-flight through @shardgate/cache).
 */
import { createCache, type AsyncCache, type CacheStats } from '@shardgate/cache';
import type { VSchema } from '@shardgate/vschema';
import type { Plan, PlannedQuery, SqlValue } from './plan-types.js';
import { normalize, type NormalizedQuery, type UserVariables } from './normalizer.js';
import { buildPlan } from './statement-planner.js';
import { deepFreeze, deepFreezeInSlices, estimateBytes } from './plan-size.js';
import { PlanWorkerPool, workerPlanBytes } from './plan-worker-pool.js';
import { PreparedNormalizer } from './prepared-normalizer.js';

export interface PlannerCacheOptions {
  readonly variant?: 'mutex' | 'sharded';
  readonly stripes?: number;
  readonly maxEntries?: number;
  /** Most bytes of plans held (estimated, see plan-size.ts). */
  readonly maxCost?: number;
}

export interface PlannerOptions {
  readonly vschema: VSchema;
  readonly cache?: PlannerCacheOptions;
  /** Freeze plans deeply (default: on unless NODE_ENV is 'production'). */
  readonly freezePlans?: boolean;
  /**
   * The vschema's source JSON (what loadVSchema was given). With it, cache misses are parsed and
   * planned in a worker_threads pool (workers loadVSchema it themselves: a VSchema holds vindex
   * functions and cannot be sent); without it, misses are planned on the calling thread.
   */
  readonly vschemaJson?: unknown;
  /**
   * Most plan workers alive at once (default 2; 0 plans misses on the calling thread). Used only
   * with vschemaJson. Workers start on demand and exit after planWorkerIdleMs without a miss.
   */
  readonly planWorkers?: number;
  /** A plan worker idle this long exits (default 30000 ms; 0: started workers never exit). */
  readonly planWorkerIdleMs?: number;
  /**
   * Deadline of one miss in the workers (default 5000 ms), counted from the call to plan(); past
   * it the statement fails with 1969.
   */
  readonly planTimeoutMs?: number;
  /**
   * Statements longer than this (characters) are normalized in a plan worker too, so that lexing
   * a long statement (megabytes of OR terms, UNION parts or values) never holds the calling
   * thread; their plans are still looked up in the cache on it. Default 16384; used only with
   * plan workers.
   */
  readonly largeStatementChars?: number;
  /**
   * Most prepared texts whose normalization is kept (default 10000; the oldest goes first), so
   * that their executions skip the lexer (see prepared-normalizer.ts).
   */
  readonly preparedTexts?: number;
}

/** Default of PlannerOptions.largeStatementChars: about 15 ms of lexing at the densest. */
export const LARGE_STATEMENT_CHARS = 16_384;

export interface PlanRequest {
  /** The session target: `ks`, `ks:-80`, `ks[-80]`, or null/undefined. */
  readonly keyspace?: string | null;
  /** Values for `?` placeholders (COM_STMT_EXECUTE). */
  readonly params?: readonly SqlValue[];
  /**
   * The session's user variables (canonical name, see userVariableName → value). A `@name` read
   * becomes a bind var with this value (NULL when absent); the plan and its cache key do not
   * depend on the values. Only read during the synchronous normalize step of plan().
   */
  readonly userVariables?: UserVariables;
}

export type { CacheStats };

/**
 * Concurrency rule: `plan()` may be called by any number of sessions at once. The only shared
 * mutable state is the plan cache (whose own rules apply: single-flight computes, epoch-checked
 * inserts) and the (vschema, epoch, cleanAtCacheEpoch) triple, which `setVSchema` replaces in one
 * synchronous step: a plan is built against the vschema captured with its epoch. The cache's own
 * epoch, bumped when the invalidate() issued by setVSchema acts, keeps an in-flight old build
 * from being inserted, and that act removes every old entry. Until it has acted (it may wait for
 * stripe locks), keys carry the planner epoch, so an old plan is never found under a new key;
 * once it has, the old entries are gone and the common key is the normalized text alone (see
 * cacheKey), which saves building and hashing a concatenated string per query.
 */
export class Planner {
  private current: {
    readonly vschema: VSchema;
    /** The vschema's source JSON, when known: misses then plan in the workers. */
    readonly vschemaJson: unknown;
    readonly epoch: number;
    /** The cache epoch from which the cache holds no plan of an older vschema. */
    readonly cleanAtCacheEpoch: number;
  };
  private readonly cache: AsyncCache<string, Plan>;
  private readonly freeze: boolean;
  private readonly workers: PlanWorkerPool | null;
  /** Statements longer than this normalize in the workers (PlannerOptions.largeStatementChars). */
  private readonly largeStatementChars: number;
  /** Normalizations of prepared texts (see prepared-normalizer.ts); synchronous use only. */
  readonly prepared: PreparedNormalizer;
  // Written only inside the (single-flight) compute; read by tests and metrics.
  private builds = 0;

  constructor(opts: PlannerOptions) {
    const c = opts.cache ?? {};
    this.cache = createCache<string, Plan>({
      variant: c.variant ?? 'sharded',
      ...(c.stripes !== undefined ? { stripes: c.stripes } : {}),
      maxEntries: c.maxEntries ?? 10_000,
      ...(c.maxCost !== undefined ? { maxCost: c.maxCost } : {}),
      // The structural estimate undercounts V8's real footprint (hidden classes, map overhead);
      // the memory benchmark measured heap growth / estimate ≈ 1.24, hence the factor.
      // A plan from a worker comes with the worker's estimate (no walk over it on this thread).
      sizer: (plan, key) => Math.ceil(1.25 * ((workerPlanBytes.get(plan) ?? estimateBytes(plan)) + 16 + 2 * key.length)),
    });
    this.freeze = opts.freezePlans ?? process.env.NODE_ENV !== 'production';
    this.current = { vschema: opts.vschema, vschemaJson: opts.vschemaJson, epoch: 0, cleanAtCacheEpoch: this.cache.epoch };
    const size = opts.planWorkers ?? 2;
    this.workers = opts.vschemaJson !== undefined && size > 0 ? new PlanWorkerPool({ size, timeoutMs: opts.planTimeoutMs ?? 5000, idleTimeoutMs: opts.planWorkerIdleMs ?? 30_000 }) : null;
    this.largeStatementChars = opts.largeStatementChars ?? LARGE_STATEMENT_CHARS;
    this.prepared = new PreparedNormalizer(opts.preparedTexts ?? 10_000);
  }

  get vschema(): VSchema {
    return this.current.vschema;
  }

  /**
   * Swaps the vschema. Plans built on the previous one are never served again. Pass the new
   * vschema's source JSON to keep planning misses in the workers (they reload it for the new
   * epoch); without it, misses of this epoch plan on the calling thread.
   */
  setVSchema(vschema: VSchema, vschemaJson?: unknown): void {
    // The planner is the only caller of invalidate() on its cache and each call bumps the cache
    // epoch once when it acts, so this is the epoch once every pending invalidate() has acted.
    const prev = this.current;
    const cleanAtCacheEpoch = Math.max(prev.cleanAtCacheEpoch, this.cache.epoch) + 1;
    this.current = { vschema, vschemaJson, epoch: prev.epoch + 1, cleanAtCacheEpoch };
    // Frees the old entries and rejects builds that started before this call.
    void this.cache.invalidate().catch(() => undefined);
  }

  /**
   * Plans one statement. A cache hit returns synchronously (no parse); a miss returns a Promise
   * (one build shared by all concurrent callers of the same shape). Lexer errors (1064) and
   * placeholder-count errors (1210) are thrown synchronously; planning errors reject. A statement
   * longer than largeStatementChars (with plan workers) always returns a Promise, and its lexer
   * errors reject.
   */
  plan(sql: string, ctx: PlanRequest = {}): PlannedQuery | Promise<PlannedQuery> {
    const workers = this.workers;
    if (workers !== null && sql.length > this.largeStatementChars && this.current.vschemaJson !== undefined) {
      // A long statement: normalized in a worker, its deadline running from now.
      // Posted after a turn of the event loop: copying a statement of megabytes into the message
      // is a step of its own, not one more in the step that read and decoded it. Two immediates:
      // one queued from an I/O callback runs before the loop polls I/O again (no client is served
      // in between); the second runs after that poll.
      // The values are read now, as a synchronous normalize would read them.
      const deadline = workers.deadlineFromNow();
      const params = ctx.params?.slice();
      const userVariables = ctx.userVariables === undefined ? undefined : new Map(ctx.userVariables);
      return new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)))
        .then(() => workers.normalize(sql, params, userVariables, deadline))
        .then((n) => this.planNormalized(n, ctx, deadline));
    }
    const params = ctx.params;
    // A statement with params is a prepared one: its text normalizes the same way every time.
    const n = params !== undefined && params.length > 0 ? this.prepared.normalize(sql, params, ctx.userVariables) : normalize(sql, params, ctx.userVariables);
    return this.planNormalized(n, ctx, undefined);
  }

  /** The cache lookup and, on a miss, the build of an already normalized statement. */
  private planNormalized(n: NormalizedQuery, ctx: PlanRequest, deadline: number | undefined): PlannedQuery | Promise<PlannedQuery> {
    const cur = this.current;
    const key = cacheKey(n, ctx.keyspace ?? null, this.cache.epoch >= cur.cleanAtCacheEpoch ? -1 : cur.epoch);
    const hit = this.cache.peek(key);
    if (hit !== undefined) return { plan: hit, bindVars: n.bindVars };
    return this.cache
      .getOrCompute(key, () => {
        this.builds++;
        if (this.workers !== null && cur.vschemaJson !== undefined) {
          const target = ctx.keyspace ?? null;
          return this.workers.run(n, target, cur.epoch, cur.vschemaJson, deadline).then((plan) => (this.freeze ? deepFreezeInSlices(plan) : plan));
        }
        const plan = buildPlan({ normalized: n, target: ctx.keyspace ?? null, vschema: cur.vschema });
        return this.freeze ? deepFreeze(plan) : plan;
      })
      .then((plan) => ({ plan, bindVars: n.bindVars }));
  }

  /** Plans without the cache (tools, tests): same result as a miss. */
  planUncached(sql: string, ctx: PlanRequest = {}): PlannedQuery {
    const n = normalize(sql, ctx.params, ctx.userVariables);
    const plan = buildPlan({ normalized: n, target: ctx.keyspace ?? null, vschema: this.current.vschema });
    return { plan: this.freeze ? deepFreeze(plan) : plan, bindVars: n.bindVars };
  }

  /** Plans built so far (cache misses that ran the planner; concurrent misses share one build). */
  get buildCount(): number {
    return this.builds;
  }

  cacheStats(): CacheStats {
    return this.cache.stats();
  }

  /** Starts one plan worker (if planning in workers) and resolves once it is ready; see PlanWorkerPool.ready. */
  async ready(): Promise<void> {
    await this.workers?.ready();
  }

  /** Plan workers terminated for missing planTimeoutMs (and replaced). */
  get workersReplaced(): number {
    return this.workers?.replaced ?? 0;
  }

  /** Plan workers alive now (they start on demand and exit when idle). */
  get liveWorkers(): number {
    return this.workers?.liveWorkers ?? 0;
  }

  /** Stops the cache (pending computes are aborted for their waiters) and the plan workers. */
  dispose(): void {
    this.workers?.dispose();
    this.cache.dispose();
  }
}

/**
 * The plan-cache key: normalized text + target + directives (+ the planner epoch while an
 * invalidation is pending; -1 when none is). The common case (no target, no directives, nothing
 * pending) is the normalized text itself, with no concatenation. Every other key starts with
 * \u0000, and such a text is never used bare, so the two forms cannot collide.
 */
function cacheKey(n: NormalizedQuery, target: string | null, epoch: number): string {
  const text = n.normalized;
  if (epoch < 0 && (target === null || target === '') && n.directivesKey === '' && text.charCodeAt(0) !== 0) return text;
  return `\u0000${epoch}\u0000${target ?? ''}\u0000${n.directivesKey}\u0000${text}`;
}
