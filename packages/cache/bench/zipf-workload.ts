/** mulberry32: a small seeded PRNG, so every run of the benchmark replays the same workload. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Keys drawn from a Zipf(s) distribution over `universe` ranks: rank r has weight 1 / r^s. */
export function zipfKeys(universe: number, s: number, count: number, random: () => number): string[] {
  const cdf = new Float64Array(universe);
  let total = 0;
  for (let r = 0; r < universe; r++) cdf[r] = total += 1 / Math.pow(r + 1, s);
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const u = random() * total;
    let lo = 0;
    let hi = universe - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    keys.push(`select * from t where id = ${lo}`);
  }
  return keys;
}
