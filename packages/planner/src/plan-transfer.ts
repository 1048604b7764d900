/**
 * What crosses the thread boundary between the Planner and its plan workers. Structured clone
 * keeps bigint and Uint8Array, but a class instance arrives as a plain object without its
 * prototype, so ExactNumber travels tagged and is revived on the other side; a PlanError travels
 * as (errno, sqlState, message) and is rebuilt as a PlanError.
 */
import { ExactNumber, type Plan, type SqlValue } from './plan-types.js';
import type { NormalizedQuery } from './normalizer.js';
import { PlanError } from './errors.js';

/** The key of a tagged ExactNumber; no plan or bind var has a property of this name. */
const EXACT_TAG = '\u0000exactNumber';

/** A copy of `value` with every ExactNumber replaced by a tagged plain object (linear walk). */
export function tagForTransfer<T>(value: T): T {
  return tagCounting(value).value;
}

/** tagForTransfer, also saying whether anything was tagged (the receiver then skips reviveTransfer). */
export function tagCounting<T>(value: T): { value: T; tagged: boolean } {
  let tagged = false;
  const out = walk(value, (v) => {
    if (!(v instanceof ExactNumber)) return undefined;
    tagged = true;
    return { [EXACT_TAG]: v.text };
  }) as T;
  return { value: out, tagged };
}

/** Revives the ExactNumbers of a value tagged by tagForTransfer. */
export function reviveTransfer<T>(value: T): T {
  return walk(value, (v) => {
    const text = (v as Record<string, unknown>)[EXACT_TAG];
    return typeof text === 'string' ? new ExactNumber(text) : undefined;
  }) as T;
}

function walk(value: unknown, replace: (v: object) => unknown): unknown {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  const r = replace(value);
  if (r !== undefined) return r;
  if (Array.isArray(value)) return value.map((v) => walk(v, replace));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) out[k] = walk((value as Record<string, unknown>)[k], replace);
  return out;
}

/** Main thread → worker: plan one normalized statement against the vschema of `epoch`. */
export interface PlanJobMessage {
  readonly op: 'plan';
  readonly id: number;
  readonly epoch: number;
  /** The vschema's source JSON; sent only when the worker has not loaded this epoch yet. */
  readonly vschemaJson?: unknown;
  /** Without its bind vars: a plan never depends on the values (they can be megabytes). */
  readonly normalized: NormalizedQuery;
  readonly target: string | null;
}

/** Main thread → worker: normalize one (long) statement; params and user variables tagged. */
export interface NormalizeJobMessage {
  readonly op: 'normalize';
  readonly id: number;
  readonly sql: string;
  readonly params: readonly SqlValue[] | undefined;
  /** The session's user variables as [name, value] pairs (a Map arrives as a Map, its values untagged). */
  readonly userVariables: readonly (readonly [string, SqlValue])[] | undefined;
}

export type WorkerJobMessage = PlanJobMessage | NormalizeJobMessage;

export interface TransferredError {
  readonly errno?: number;
  readonly sqlState?: string;
  readonly message: string;
}

/**
 * Worker → main thread: a plan (with its estimated size, so that the cache's sizer need not walk
 * it on the event loop, and whether any ExactNumber was tagged, so that a plan without one needs
 * no reviving walk), a normalized statement, or an error.
 */
export type PlanResultMessage =
  | { readonly id: number; readonly ok: true; readonly plan: Plan; readonly bytes: number; readonly tagged: boolean }
  | { readonly id: number; readonly ok: true; readonly normalized: NormalizedQuery; readonly tagged: boolean }
  | { readonly id: number; readonly ok: false; readonly error: TransferredError };

/** MariaDB's ER_STACK_OVERRUN_NEED_MORE: what it answers when a statement nests too deep to evaluate. */
export const ER_STACK_OVERRUN = 1436;

export function errorForTransfer(err: unknown): TransferredError {
  if (err instanceof PlanError) return { errno: err.errno, sqlState: err.sqlState, message: err.message };
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    // The parser or the planner recursed past the worker's stack: the statement nests (or
    // chains) deeper than the gateway can plan. MariaDB's own error for a stack too small.
    return { errno: ER_STACK_OVERRUN, sqlState: 'HY000', message: 'Thread stack overrun: the statement nests too deeply for the gateway to plan it' };
  }
  return { message: err instanceof Error ? err.message : String(err) };
}

export function reviveError(e: TransferredError): Error {
  if (e.errno !== undefined && e.sqlState !== undefined) return new PlanError(e.errno, e.sqlState, e.message);
  return new Error(e.message);
}
