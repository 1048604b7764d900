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
