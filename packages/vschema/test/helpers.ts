import { loadVSchema, type FunctionalVindex, type LookupVindex, type Vindex } from '../src/index.js';

export const hex = (b: Uint8Array | 'none' | null): string | null => (b === null || b === 'none' ? b : Buffer.from(b).toString('hex'));
export const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

/** Build one vindex through the real loader, as a vschema declaring it would. */
export function makeVindex(type: string, params: Record<string, string> = {}, owner?: string): Vindex {
  const vs = loadVSchema({
    keyspaces: { ks: { sharded: true, vindexes: { v: { type, params, ...(owner ? { owner } : {}) } } } },
  });
  return vs.keyspace('ks')!.vindexes.get('v')!;
}

export function functional(type: string, params: Record<string, string> = {}): FunctionalVindex {
  const v = makeVindex(type, params);
  if (v.kind !== 'functional') throw new Error(`${type} is not functional`);
  return v;
}

export function lookup(type: string, params: Record<string, string>, owner?: string): LookupVindex {
  const v = makeVindex(type, params, owner);
  if (v.kind !== 'lookup') throw new Error(`${type} is not a lookup`);
  return v;
}
