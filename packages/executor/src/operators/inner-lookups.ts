/**
 * The inner side of a nested-loop join or semi-join, looked up for many outer rows: in batches of
 * one query per shard where the inner route allows it (batched-lookups.ts), otherwise several
 * lookups in flight at once; and one lookup shared by outer rows whose join values are identical.
 *
 * All of it keeps the answer exact. Each outer row still gets the result of exactly the query it
 * would have run alone (the same SQL with the same bound values); only when and how often that
 * query is sent changes. Sharing is skipped when the inner SQL calls a function whose value may
 * differ between two runs of one query (RAND, UUID, SYSDATE…), since one MariaDB would evaluate
 * it anew for every outer row; such inner sides are not batched either.
 */
import type { BindVars, Primitive, SqlValue } from '@shardgate/planner';
import type { QueryContext } from '../query-context.js';
import type { BufferedRows } from '../row-flow.js';
import type { Row } from '../types.js';
import { batchableLookup, batchedLookups, LOOKUP_BATCH_ROWS, type LookupRequest } from './batched-lookups.js';

/** Lookups in flight per join when they are not batched. Small: each may take a pooled connection on every inner shard. */
export const INNER_LOOKUP_WINDOW = 4;
/** Bounds on the results kept for sharing within one statement (beyond them, lookups are not kept). */
const MAX_SHARED_LOOKUPS = 4096;
const MAX_SHARED_ROWS = 65_536;

const VOLATILE_FUNCTION = /\b(rand|uuid|uuid_short|sys_guid|sysdate|sleep|benchmark|nextval|lastval|setval|random_bytes|get_lock|release_lock|last_insert_id|row_count|found_rows|connection_id)\s*\(/i;

/** Whether `inner` is a route whose query gives the same rows whenever it runs with the same values (no RAND(), UUID()…). */
export function deterministicRoute(inner: Primitive): boolean {
  return inner.operator === 'Route' && !inner.query.parts.some((part) => typeof part === 'string' && VOLATILE_FUNCTION.test(part));
}

/**
 * One join's lookups. Concurrency rule: `shared`, `sharedRows` and `fields` belong to one runJoin
 * call and are touched only synchronously (a lookup's promise is stored before its first await),
 * so two outer rows with the same values always find the same promise.
 */
export class InnerLookups {
  private readonly shared = new Map<string, Promise<BufferedRows>>();
  private sharedRows = 0;
  private readonly sharing: boolean;
  /** Whether lookups go in batches (then lookupAll, not lookup). */
  readonly batched: boolean;
  /** The inner query's own columns, from the first lookup run alone (set once, then read). */
  private fields: Promise<BufferedRows['fields']> | null = null;

  constructor(
    private readonly ctx: QueryContext,
    private readonly inner: Primitive,
    private readonly run: (bv: BindVars) => Promise<BufferedRows>,
  ) {
    this.sharing = deterministicRoute(inner);
    this.batched = this.sharing && inner.operator === 'Route' && batchableLookup(inner);
  }

  /** The inner rows for one outer row's bind vars, whose join values are `values`. */
  lookup(bv: BindVars, values: readonly SqlValue[]): Promise<BufferedRows> {
    const key = this.canShare() ? lookupKey(values) : null;
    const known = key === null ? undefined : this.shared.get(key);
    if (known) return known;
    const pending = this.run(bv);
    if (key !== null) this.remember(key, pending);
    return pending;
  }

  /** The inner rows for each request, in order: lookups not already made go out in one batch. */
  lookupAll(requests: readonly LookupRequest[]): Promise<BufferedRows>[] {
    const out: Promise<BufferedRows>[] = [];
    const fresh: LookupRequest[] = [];
    const freshAt: number[][] = [];
    const freshByKey = new Map<string, number>();
    for (const r of requests) {
      const key = lookupKey(r.values);
      const known = this.canShare() ? this.shared.get(key) : undefined;
      if (known) {
        out.push(known);
        continue;
      }
      const seen = freshByKey.get(key);
      if (seen !== undefined) {
        freshAt[seen].push(out.length);
      } else {
        freshByKey.set(key, fresh.length);
        freshAt.push([out.length]);
        fresh.push(r);
      }
      out.push(null as unknown as Promise<BufferedRows>); // filled below, synchronously
    }
    if (fresh.length === 0) return out;
    let results: Promise<BufferedRows>[];
    if (this.fields === null) {
      // The first lookup runs alone: its columns are the inner query's own.
      const first = this.run(fresh[0].bindVars);
      this.fields = first.then((r) => r.fields);
      // Read only by a later batch; a failure is reported through `first` (and a batch's own
      // promises). Unhandled here, it was an unhandledRejection that stopped the gateway process
      // when the first lookup failed and no batch followed (fuzz seed 68 #4238, an abort).
      this.fields.catch(() => undefined);
      const rest = fresh.length > 1 ? this.batch(fresh.slice(1)) : [];
      results = [first, ...rest];
    } else {
      results = this.batch(fresh);
    }
    fresh.forEach((r, j) => {
      for (const at of freshAt[j]) out[at] = results[j];
      if (this.canShare()) this.remember(lookupKey(r.values), results[j]);
    });
    return out;
  }

  private batch(requests: readonly LookupRequest[]): Promise<BufferedRows>[] {
    const all = this.fields!.then((fields) => batchedLookups(this.ctx, this.inner as Parameters<typeof batchedLookups>[1], requests, fields, this.run));
    all.catch(() => undefined); // reported through each request's promise below
    return requests.map((_, i) => all.then((rows) => rows[i]));
  }

  private canShare(): boolean {
    return this.sharing && this.shared.size < MAX_SHARED_LOOKUPS && this.sharedRows < MAX_SHARED_ROWS;
  }

  private remember(key: string, pending: Promise<BufferedRows>): void {
    this.shared.set(key, pending);
    pending.then(
      (r) => {
        this.sharedRows += r.rows.length;
      },
      () => this.shared.delete(key),
    );
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
 * Looks up each outer row (batched, or with up to INNER_LOOKUP_WINDOW lookups in flight) and
 * hands each row with its inner rows to `use`, strictly in the rows' order. On an error it waits
 * for the lookups still running, so no query of the statement outlives it on a pooled connection.
 */
export async function lookupInOrder(
  ctx: QueryContext,
  rows: readonly Row[],
  lookups: InnerLookups,
  request: (row: Row) => LookupRequest,
  use: (row: Row, inner: BufferedRows) => void | Promise<void>,
): Promise<void> {
  const inFlight: Promise<BufferedRows>[] = [];
  const rowsInFlight: Row[] = [];
  const useOldest = async (): Promise<void> => {
    const inner = await inFlight.shift()!;
    await use(rowsInFlight.shift()!, inner);
  };
  try {
    if (lookups.batched) {
      // Up to INNER_LOOKUP_WINDOW batches in flight; rows are used strictly in order.
      const batchSizes: number[] = [];
      for (let start = 0; start < rows.length; start += LOOKUP_BATCH_ROWS) {
        ctx.throwIfAborted();
        const chunk = rows.slice(start, start + LOOKUP_BATCH_ROWS);
        for (const p of lookups.lookupAll(chunk.map(request))) {
          // A lookup that fails while an older one is awaited is reported by its own await below
          // (or dropped with the statement's first error): never an unhandled rejection.
          p.catch(() => undefined);
          inFlight.push(p);
        }
        rowsInFlight.push(...chunk);
        batchSizes.push(chunk.length);
        if (batchSizes.length >= INNER_LOOKUP_WINDOW) for (let n = batchSizes.shift()!; n > 0; n--) await useOldest();
      }
      while (inFlight.length > 0) await useOldest();
      return;
    }
    for (const row of rows) {
      ctx.throwIfAborted();
      const r = request(row);
      const pending = lookups.lookup(r.bindVars, r.values);
      pending.catch(() => undefined);
      inFlight.push(pending);
      rowsInFlight.push(row);
      if (inFlight.length >= INNER_LOOKUP_WINDOW) await useOldest();
    }
    while (inFlight.length > 0) await useOldest();
  } finally {
    await Promise.allSettled(inFlight);
  }
}
