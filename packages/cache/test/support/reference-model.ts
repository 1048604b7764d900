/**
 * The sequential reference model: what a cache with LRU eviction must do when operations run one at a time.
 * It is a list of stripes, each an LRU of its share of the capacity (a MutexCache is one stripe), written as plainly
 * as possible (arrays, linear scans) so that it is obviously right. Concurrency rule: single caller only.
 */
export class ReferenceModel<K, V> {
  hits = 0;
  misses = 0;
  evictions = 0;
  epoch = 0;
  /** Per stripe, keys from least to most recently used. */
  private readonly stripes: { key: K; value: V; cost: number }[][];

  constructor(
    private readonly capacities: readonly { maxEntries: number; maxCost: number }[],
    private readonly stripeOf: (key: K) => number,
  ) {
    this.stripes = capacities.map(() => []);
  }

  lookup(key: K): V | undefined {
    const stripe = this.stripes[this.stripeOf(key)];
    const i = stripe.findIndex((e) => e.key === key);
    if (i < 0) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    const [entry] = stripe.splice(i, 1);
    stripe.push(entry);
    return entry.value;
  }

  /** A miss followed by a successful compute inserts; a failed compute inserts nothing. */
  getOrCompute(key: K, value: V, cost: number, fails: boolean): { value: V; computed: boolean } | 'error' {
    const hit = this.lookup(key);
    if (hit !== undefined) return { value: hit, computed: false };
    if (fails) return 'error';
    this.set(key, value, cost);
    return { value, computed: true };
  }

  set(key: K, value: V, cost: number): void {
    const index = this.stripeOf(key);
    const stripe = this.stripes[index];
    const { maxEntries, maxCost } = this.capacities[index];
    const i = stripe.findIndex((e) => e.key === key);
    if (i >= 0) stripe.splice(i, 1);
    if (maxEntries < 1 || cost > maxCost) return;
    stripe.push({ key, value, cost });
    while (stripe.length > maxEntries || sum(stripe) > maxCost) {
      stripe.shift();
      this.evictions++;
    }
  }

  delete(key: K): boolean {
    const stripe = this.stripes[this.stripeOf(key)];
    const i = stripe.findIndex((e) => e.key === key);
    if (i >= 0) stripe.splice(i, 1);
    return i >= 0;
  }

  invalidate(predicate?: (key: K, value: V) => boolean): number {
    this.epoch++;
    let removed = 0;
    for (const stripe of this.stripes) {
      for (let i = stripe.length - 1; i >= 0; i--) {
        if (predicate === undefined || predicate(stripe[i].key, stripe[i].value)) {
          stripe.splice(i, 1);
          removed++;
        }
      }
    }
    return removed;
  }

  get entries(): number {
    return this.stripes.reduce((n, s) => n + s.length, 0);
  }

  get cost(): number {
    return this.stripes.reduce((n, s) => n + sum(s), 0);
  }
}

function sum(stripe: readonly { cost: number }[]): number {
  return stripe.reduce((n, e) => n + e.cost, 0);
}
