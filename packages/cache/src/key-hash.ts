/**
 * A fast, well-mixed 32-bit hash of a cache key, used to pick a key's stripe and its frequency-sketch counters.
 *
 * Strings are hashed with FNV-1a over their UTF-16 code units; integral numbers in the int32/uint32 range are mixed
 * directly; every other key is hashed as `String(key)`. Strings and numbers are therefore the supported key types:
 * other keys work, but keys whose `String()` is equal (e.g. plain objects) share a stripe and a sketch slot.
 * The hash is computed on misses and mutations only, never on the hit path (entries remember their hash).
 */
export function hashKey(key: unknown): number {
  if (typeof key === 'string') return hashString(key);
  if (typeof key === 'number' && (key | 0) === key) return mix32(key);
  if (typeof key === 'number' && key >>> 0 === key) return mix32(key | 0);
  return hashString(String(key));
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** murmur3's fmix32 finaliser: spreads every input bit over the output so `hash % stripes` is uniform. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
