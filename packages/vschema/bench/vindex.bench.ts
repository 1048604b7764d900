// ns/op of the point-query hot path: hash vindex map of a bigint + ShardMap.shardFor.
// Run: pnpm --filter @shardgate/vschema bench   (writes nothing; paste results into BENCHMARKS.md)
import { loadVSchema, ShardMap, type FunctionalVindex } from '../src/index.js';

const vs = loadVSchema({ keyspaces: { ks: { sharded: true, vindexes: { h: { type: 'hash' }, x: { type: 'xxhash' } } } } });
const hash = vs.keyspace('ks')!.vindexes.get('h') as FunctionalVindex;
const xxhash = vs.keyspace('ks')!.vindexes.get('x') as FunctionalVindex;

function evenShards(n: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = i === 0 ? '' : Math.floor((i * 65536) / n).toString(16).padStart(4, '0');
    const e = i === n - 1 ? '' : Math.floor(((i + 1) * 65536) / n).toString(16).padStart(4, '0');
    names.push(`${s}-${e}`);
  }
  return names;
}

let sink = 0;
function bench(name: string, iters: number, fn: (i: number) => void): void {
  for (let i = 0; i < 50_000; i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / iters;
  console.log(`${name.padEnd(44)} ${ns.toFixed(1).padStart(8)} ns/op`);
}

const N = 2_000_000;
const ids = Array.from({ length: 1024 }, (_, i) => BigInt(i * 7919 + 1));
const maps = [2, 16, 128].map((n) => new ShardMap(evenShards(n)));
const ksids = ids.map((id) => hash.map(id)!);

bench('hash.map(bigint)', N, (i) => {
  sink ^= hash.map(ids[i & 1023])![0];
});
for (const m of maps) {
  bench(`ShardMap(${m.shards.length}).shardFor`, N, (i) => {
    sink ^= m.shardFor(ksids[i & 1023]).length;
  });
}
for (const m of maps) {
  bench(`hash.map + ShardMap(${m.shards.length}).shardFor`, N, (i) => {
    sink ^= m.shardFor(hash.map(ids[i & 1023])!).length;
  });
}
const strs = ids.map((id) => `user-${id}`);
bench('xxhash.map(short string)', N / 4, (i) => {
  sink ^= xxhash.map(strs[i & 1023])![0];
});
if (sink === 0.5) console.log(sink);
