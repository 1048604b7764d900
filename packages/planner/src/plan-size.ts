/**
 * Estimates the bytes a cached plan holds, for the plan cache's cost accounting (maxCost). The
 * estimate follows V8's layout roughly: 16 bytes per string plus 2 per character (conservative
 * for one-byte strings), 16 + 8 per property for objects, 16 + 8 per element for arrays.
 */
export function estimateBytes(value: unknown, seen: Set<object> = new Set()): number {
  switch (typeof value) {
    case 'string':
      return 16 + 2 * value.length;
    case 'number':
    case 'boolean':
    case 'undefined':
      return 8;
    case 'bigint':
      return 24;
    case 'object': {
      if (value === null) return 8;
      if (seen.has(value)) return 8;
      seen.add(value);
      if (value instanceof Uint8Array) return 64 + value.byteLength;
      if (Array.isArray(value)) {
        let n = 16 + 8 * value.length;
        for (const v of value) n += estimateBytes(v, seen);
        return n;
      }
      let n = 16;
      for (const k of Object.keys(value)) n += 8 + estimateBytes((value as Record<string, unknown>)[k], seen);
      return n;
    }
    default:
      return 8;
  }
}

/**
 * Deep-freezes a plan (development builds): plans are shared by every session that hits the
 * cache, so a write to one is a bug that must fail loudly. Typed arrays cannot be frozen and are
 * left as they are.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || Object.isFrozen(value)) return value;
  for (const k of Object.keys(value as object)) deepFreeze((value as Record<string, unknown>)[k]);
  return Object.freeze(value);
}

/** Objects and array elements deepFreezeInSlices walks between two turns of the event loop (a few ms). */
export const FREEZE_OBJECTS_PER_SLICE = 4096;

/**
 * deepFreeze for a plan that arrives from a plan worker: the same objects frozen, in slices of
 * `perSlice` objects with a turn of the event loop (setImmediate) between them, since a
 * 50,000-term OR chain's plan holds some 200,000 objects (one walk: tens of ms on the event loop).
 * `onSlice` (tests) is called once per slice with its count of objects and array elements.
 * Concurrency rule: nothing else holds the plan before the returned promise resolves (the cache
 * stores it only then), so no session can see it half frozen.
 */
export async function deepFreezeInSlices<T>(value: T, perSlice = FREEZE_OBJECTS_PER_SLICE, onSlice?: (objects: number) => void): Promise<T> {
  const stack: unknown[] = [value];
  // Every slice starts with a turn of the event loop, the first too: the plan has just been
  // deserialized from the worker's message, in one step already.
  let inSlice = 0;
  let started = false;
  while (stack.length > 0) {
    const v = stack.pop();
    if (v instanceof ArrayRest) {
      // A long array's elements are pushed perSlice at a time, so no step is the whole array.
      const end = Math.min(v.from + perSlice, v.array.length);
      if (end < v.array.length) stack.push(new ArrayRest(v.array, end));
      for (let i = v.from; i < end; i++) stack.push(v.array[i]);
      inSlice += end - v.from;
    } else if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || Object.isFrozen(v)) {
      continue;
    } else {
      if (Array.isArray(v)) stack.push(new ArrayRest(v, 0));
      else for (const k of Object.keys(v)) stack.push((v as Record<string, unknown>)[k]);
      Object.freeze(v);
      inSlice++;
    }
    if (!started || inSlice >= perSlice) {
      if (started) onSlice?.(inSlice);
      started = true;
      inSlice = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  if (inSlice > 0) onSlice?.(inSlice);
  return value;
}

/** The elements of `array` from `from` on, still to be walked (deepFreezeInSlices). */
class ArrayRest {
  constructor(
    readonly array: readonly unknown[],
    readonly from: number,
  ) {}
}
