/**
 * The inner side of a nested-loop join, looked up for many outer rows: several lookups in flight
 * at once, and one lookup shared by outer rows whose join values are identical.
 *
 * Both keep the answer exact. Each outer row still gets the result of exactly the query it would
 * have run alone (the same SQL with the same bound values); only when and how often that query is
 * sent changes. Sharing is skipped when the inner SQL calls a function whose value may differ
 * between two runs of one query (RAND, UUID, SYSDATE…), since one MariaDB would evaluate it anew
 * for every outer row.
 */
import type { BindVars, Primitive, SqlValue } from '@shardgate/planner';
import type { QueryContext } from '../query-context.js';
import type { BufferedRows } from '../row-flow.js';
import type { Row } from '../types.js';

/** Lookups in flight per join. Small: each may take a pooled connection on every inner shard. */
export const INNER_LOOKUP_WINDOW = 4;
/** Bounds on the results kept for sharing within one statement (beyond them, lookups are not kept). */
const MAX_SHARED_LOOKUPS = 4096;
const MAX_SHARED_ROWS = 65_536;

const VOLATILE_FUNCTION = /\b(rand|uuid|uuid_short|sys_guid|sysdate|sleep|benchmark|nextval|lastval|setval|random_bytes|get_lock|release_lock|last_insert_id|row_count|found_rows|connection_id)\s*\(/i;

/**
 * One join's lookups. Concurrency rule: `shared`, `sharedRows` and `sharing` belong to one
 * runJoin call and are touched only synchronously (a lookup's promise is stored before its first
 * await), so two outer rows with the same values always find the same promise.
 */
export class InnerLookups {
  private readonly shared = new Map<string, Promise<BufferedRows>>();
  private sharedRows = 0;
  private readonly sharing: boolean;

  constructor(
    inner: Primitive,
    private readonly run: (bv: BindVars) => Promise<BufferedRows>,
  ) {
    this.sharing = inner.operator === 'Route' && !inner.query.parts.some((part) => typeof part === 'string' && VOLATILE_FUNCTION.test(part));
  }

  /** The inner rows for one outer row's bind vars, whose join values are `values`. */
  lookup(bv: BindVars, values: readonly SqlValue[]): Promise<BufferedRows> {
    if (!this.sharing || this.shared.size >= MAX_SHARED_LOOKUPS || this.sharedRows >= MAX_SHARED_ROWS) return this.run(bv);
    const key = lookupKey(values);
    const known = this.shared.get(key);
    if (known) return known;
    const pending = this.run(bv);
    this.shared.set(key, pending);
    pending.then(
      (r) => {
        this.sharedRows += r.rows.length;
      },
      () => this.shared.delete(key),
    );
    return pending;
  }
}

/** Identical values give identical keys; values that merely compare equal in SQL ('a', 'A', 1, '1') do not. */
function lookupKey(values: readonly SqlValue[]): string {
  let key = '';
  for (const v of values) {
    if (v === null) key += 'n;';
    else if (v instanceof Uint8Array) key += `b${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')};`;
    else if (typeof v === 'string') key += `s${v.length}:${v};`;
    else if (typeof v === 'bigint') key += `i${v};`;
    else if (typeof v === 'number') key += `d${v};`;
    else key += `x${String(v)};`;
  }
  return key;
}

/**
 * Looks up each outer row with up to INNER_LOOKUP_WINDOW lookups in flight, and hands the results
 * to `use` strictly in the rows' order. On an error it waits for the lookups still running, so no
 * query of the statement outlives it on a pooled connection.
 */
export async function lookupInOrder<T>(
  ctx: QueryContext,
  rows: readonly Row[],
  lookup: (row: Row) => Promise<T>,
  use: (result: T) => void | Promise<void>,
): Promise<void> {
  const inFlight: Promise<T>[] = [];
  try {
    for (const row of rows) {
      ctx.throwIfAborted();
      const pending = lookup(row);
      // A lookup that fails while an older one is awaited is reported by its own await below (or
      // dropped with the statement's first error): never an unhandled rejection.
      pending.catch(() => undefined);
      inFlight.push(pending);
      if (inFlight.length >= INNER_LOOKUP_WINDOW) await use(await inFlight.shift()!);
    }
    while (inFlight.length > 0) await use(await inFlight.shift()!);
  } finally {
    await Promise.allSettled(inFlight);
  }
}
