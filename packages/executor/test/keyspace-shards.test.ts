import { describe, expect, it } from 'vitest';
import { KeyspaceShards } from '../src/keyspace-routing.js';

/** The shard of a keyspace id as Vitess defines it, on hex text (how KeyspaceShards did it before it compared bytes). */
function shardByHex(shards: readonly string[], ksid: Uint8Array): string | undefined {
  const strip = (h: string): string => h.replace(/(00)+$/, '');
  const hex = strip(Buffer.from(ksid).toString('hex'));
  for (const name of shards) {
    const [start = '', end = ''] = name.split('-').map((x) => strip(x.toLowerCase()));
    if ((start === '' || hex >= start) && (end === '' || hex < end)) return name;
  }
  return undefined;
}

describe('KeyspaceShards.shardForKeyspaceId', () => {
  it('finds the shard a hex comparison finds, for keys of any length (trailing zero bytes do not matter)', () => {
    const layouts = [['-80', '80-'], ['-40', '40-80', '80-c0', 'c0-'], ['-4000', '4000-8080', '8080-a0', 'a0-ff00', 'ff00-']];
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const shards of layouts) {
      const ks = new KeyspaceShards('commerce', shards);
      const keys: Uint8Array[] = [new Uint8Array([]), new Uint8Array([0x80]), new Uint8Array([0x80, 0]), new Uint8Array([0x7f, 0xff]), new Uint8Array([0x80, 0x80, 0]), new Uint8Array([0xff, 0])];
      for (let i = 0; i < 2000; i++) keys.push(Uint8Array.from({ length: 1 + Math.floor(random() * 9) }, () => (random() < 0.2 ? 0 : Math.floor(random() * 256))));
      for (const k of keys) expect(ks.shardForKeyspaceId(k), Buffer.from(k).toString('hex')).toBe(shardByHex(shards, k));
    }
  });
});
