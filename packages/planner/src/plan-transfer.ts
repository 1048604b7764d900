/**
 * What crosses the thread boundary between the Planner and its plan workers. Structured clone
 * keeps bigint and Uint8Array, but a class instance arrives as a plain object without its
 * prototype, so ExactNumber travels tagged and is revived on the other side; a PlanError travels
 * as (errno, sqlState, message) and is rebuilt as a PlanError.
 */
import { ExactNumber, type Plan } from './plan-types.js';
import type { NormalizedQuery } from './normalizer.js';
import { PlanError } from './errors.js';

/** The key of a tagged ExactNumber; no plan or bind var has a property of this name. */
const EXACT_TAG = '\u0000exactNumber';

/** A copy of `value` with every ExactNumber replaced by a tagged plain object (linear walk). */
export function tagForTransfer<T>(value: T): T {
  return walk(value, (v) => (v instanceof ExactNumber ? { [EXACT_TAG]: v.text } : undefined)) as T;
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
  readonly id: number;
  readonly epoch: number;
  /** The vschema's source JSON; sent only when the worker has not loaded this epoch yet. */
  readonly vschemaJson?: unknown;
  readonly normalized: NormalizedQuery;
  readonly target: string | null;
}

export interface TransferredError {
  readonly errno?: number;
  readonly sqlState?: string;
  readonly message: string;
}

/** Worker → main thread. */
export type PlanResultMessage =
  | { readonly id: number; readonly ok: true; readonly plan: Plan }
  | { readonly id: number; readonly ok: false; readonly error: TransferredError };

export function errorForTransfer(err: unknown): TransferredError {
  if (err instanceof PlanError) return { errno: err.errno, sqlState: err.sqlState, message: err.message };
  return { message: err instanceof Error ? err.message : String(err) };
}

export function reviveError(e: TransferredError): Error {
  if (e.errno !== undefined && e.sqlState !== undefined) return new PlanError(e.errno, e.sqlState, e.message);
  return new Error(e.message);
}
