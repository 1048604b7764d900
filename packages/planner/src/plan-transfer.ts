/**
 * What crosses the thread boundary between the Planner and its plan workers. Structured clone
 * keeps bigint and Uint8Array, but a class instance arrives as a plain object without its
 * prototype, so ExactNumber travels tagged and is revived on the other side; a PlanError travels
 * as (errno, sqlState, message) and is rebuilt as a PlanError.
 */
import { ExactNumber, type BindValue, type BindVars, type Plan, type SqlValue } from './plan-types.js';
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

/** The key of a long array sent as JSON chunks (see packForTransfer); no plan has a property of this name. */
const CHUNKS_TAG = '\u0000jsonChunks';

/** Elements per JSON chunk of a packed array, and the shortest array that is packed. */
export const PACKED_ELEMENTS_PER_CHUNK = 4096;

/**
 * tagCounting for a plan that goes to the main thread, which also packs every array longer than
 * PACKED_ELEMENTS_PER_CHUNK whose elements JSON keeps exactly (strings, finite numbers, booleans,
 * null, plain objects and arrays of those; no ExactNumber, bigint, bytes or undefined) as JSON
 * text in chunks of PACKED_ELEMENTS_PER_CHUNK elements. A 50,000-term OR chain's plan holds
 * arrays of 100,000 template parts and 50,000 vindex values: deserialized as objects they were one
 * step of tens of ms on the event loop; as a few strings they copy in well under one, and the
 * main thread parses them one chunk per turn of the event loop (unpackInSlices). `tagged` is
 * true when anything was tagged or packed.
 */
export function packForTransfer<T>(value: T): { value: T; tagged: boolean } {
  let tagged = false;
  const pack = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
    if (v instanceof ExactNumber) {
      tagged = true;
      return { [EXACT_TAG]: v.text };
    }
    if (Array.isArray(v)) {
      const out = v.map(pack);
      if (out.length <= PACKED_ELEMENTS_PER_CHUNK || !keptByJson(out)) return out;
      tagged = true;
      const chunks: string[] = [];
      for (let i = 0; i < out.length; i += PACKED_ELEMENTS_PER_CHUNK) chunks.push(JSON.stringify(out.slice(i, i + PACKED_ELEMENTS_PER_CHUNK)));
      return { [CHUNKS_TAG]: chunks };
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) setOwn(out, k, pack((v as Record<string, unknown>)[k]));
    return out;
  };
  return { value: pack(value) as T, tagged };
}

/** Whether JSON.parse(JSON.stringify(v)) is a value equal to v in every property (and tags none). */
function keptByJson(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object': {
      if (v === null) return true;
      if (Array.isArray(v)) {
        // A loop, not every(): every() skips holes, which JSON would turn into nulls.
        for (let i = 0; i < v.length; i++) if (!(i in v) || !keptByJson(v[i])) return false;
        return true;
      }
      if (Object.getPrototypeOf(v) !== Object.prototype) return false;
      for (const k of Object.keys(v)) if (k === EXACT_TAG || k === CHUNKS_TAG || k === '__proto__' || !keptByJson((v as Record<string, unknown>)[k])) return false;
      return true;
    }
    default:
      return false;
  }
}

/** Objects and properties unpackInSlices walks between two turns of the event loop. */
export const UNPACK_PER_SLICE = 4096;

/**
 * The main thread's side of packForTransfer: revives ExactNumbers and parses packed arrays, in
 * place (the value was just deserialized and is this call's alone), with a turn of the event loop
 * (setImmediate) before each packed chunk and every UNPACK_PER_SLICE objects and properties.
 */
export async function unpackInSlices<T>(value: T, perSlice = UNPACK_PER_SLICE): Promise<T> {
  const holder: Record<string, unknown> = { v: value };
  const stack: [Record<string, unknown>, string][] = [[holder, 'v']];
  let inSlice = 0;
  const turn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
  while (stack.length > 0) {
    const [parent, key] = stack.pop()!;
    const v = parent[key];
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) continue;
    if (inSlice >= perSlice) {
      inSlice = 0;
      await turn();
    }
    const text = (v as Record<string, unknown>)[EXACT_TAG];
    if (typeof text === 'string') {
      setOwn(parent, key, new ExactNumber(text));
      inSlice++;
      continue;
    }
    const chunks = (v as Record<string, unknown>)[CHUNKS_TAG];
    if (Array.isArray(chunks)) {
      // Packed elements hold nothing tagged (keptByJson): parsed, they are final.
      const out: unknown[] = [];
      for (const chunk of chunks as string[]) {
        await turn();
        for (const x of JSON.parse(chunk) as unknown[]) out.push(x);
      }
      inSlice = 0;
      setOwn(parent, key, out);
      continue;
    }
    const keys = Object.keys(v);
    for (const k of keys) stack.push([v as Record<string, unknown>, k]);
    inSlice += 1 + keys.length;
  }
  return holder.v as T;
}

/** `o[k] = v`, except that a key named `__proto__` becomes an own property. */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
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
  | PlanReply
  | NormalizedReply
  | { readonly id: number; readonly ok: false; readonly error: TransferredError };

/** A plan, packed by packForTransfer when `tagged` (unpackInSlices on the receiving side). */
export interface PlanReply {
  readonly id: number;
  readonly ok: true;
  readonly plan: Plan;
  readonly bytes: number;
  readonly tagged: boolean;
}

/**
 * A statement normalized in a worker, its bind vars as two arrays (names, values) rather than one
 * object: the receiving thread rebuilds an object of 50,000 keys (an OR chain's literals) from
 * two arrays in slices (see bindVarsInSlices), where deserializing the object itself would be
 * one step of tens of ms on the event loop.
 */
export interface NormalizedReply {
  readonly id: number;
  readonly ok: true;
  /** With empty bindVars. */
  readonly normalized: NormalizedQuery;
  readonly bindNames: readonly string[];
  /** Tagged (see tagForTransfer) when `tagged`. */
  readonly bindValues: readonly BindValue[];
  readonly tagged: boolean;
}

/** The worker's side of NormalizedReply. */
export function normalizedReply(id: number, n: NormalizedQuery): NormalizedReply {
  const bindNames = Object.keys(n.bindVars);
  const values = tagCounting(bindNames.map((k) => n.bindVars[k]!));
  const rest = tagCounting({ ...n, bindVars: {} });
  return { id, ok: true, normalized: rest.value, bindNames, bindValues: values.value, tagged: values.tagged || rest.tagged };
}

/** Bind vars rebuilt between two turns of the event loop (a few ms). */
export const BIND_VARS_PER_SLICE = 4096;

/**
 * The main thread's side of NormalizedReply: the normalized statement with its bind vars object
 * rebuilt (same keys in the same order, values revived), BIND_VARS_PER_SLICE keys at a time with a
 * turn of the event loop (setImmediate) before each slice. A statement of one slice is rebuilt
 * without yielding. Concurrency rule: the object is this call's alone until the promise resolves.
 */
export async function bindVarsInSlices(reply: NormalizedReply, perSlice = BIND_VARS_PER_SLICE): Promise<NormalizedQuery> {
  const { bindNames: names, bindValues: values, tagged } = reply;
  const bindVars: BindVars = {};
  for (let i = 0; i < names.length; i++) {
    // A statement of several slices waits a turn before its first too: the message it came in
    // was just deserialized, in one step already.
    if (i % perSlice === 0 && names.length > perSlice) await new Promise<void>((resolve) => setImmediate(resolve));
    const k = names[i]!;
    const v = tagged ? reviveTransfer(values[i]) : values[i]!;
    // `__proto__` stays an own key, as in the worker's object.
    if (k === '__proto__') Object.defineProperty(bindVars, k, { value: v, enumerable: true, writable: true, configurable: true });
    else bindVars[k] = v;
  }
  const n = tagged ? reviveTransfer(reply.normalized) : reply.normalized;
  return { ...n, bindVars };
}

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
