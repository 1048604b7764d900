/**
 * Issue 11: what a plan worker hands the main thread is taken in there in bounded slices, however
 * long the statement. Not timed: the work of each slice is counted (objects and elements walked),
 * at n and 10n terms of an OR chain, and the round trip through structured clone (what
 * postMessage does) must give back exactly what the worker had.
 */
import { describe, expect, it } from 'vitest';
import { normalize } from '../src/normalizer.js';
import { buildPlan } from '../src/statement-planner.js';
import { deepFreeze, deepFreezeInSlices } from '../src/plan-size.js';
import { bindVarsInSlices, normalizedReply, packForTransfer, PACKED_ELEMENTS_PER_CHUNK, unpackInSlices } from '../src/plan-transfer.js';
import { ExactNumber } from '../src/plan-types.js';
import { toVitessJson } from '../src/vitess-json.js';
import { demoVSchema } from './fixtures.js';

const orChain = (n: number, literal = (i: number): string => String(i)): string =>
  `select id from customer where ${Array.from({ length: n }, (_, i) => `id = ${literal(i)}`).join(' or ')}`;

const planOf = (sql: string) => buildPlan({ normalized: normalize(sql), target: null, vschema: demoVSchema() });

/** Runs `work` while counting the turns of the event loop it lets other callbacks have. */
async function turnsDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let done = false;
  const other = (): void => {
    if (done) return;
    turns++;
    setImmediate(other);
  };
  setImmediate(other);
  const result = await work();
  done = true;
  return { result, turns };
}

function longestArray(v: unknown, seen = new Set<unknown>()): number {
  if (v === null || typeof v !== 'object' || seen.has(v)) return 0;
  seen.add(v);
  const own = Array.isArray(v) ? v.length : 0;
  return Math.max(own, ...Object.values(v as object).map((x) => longestArray(x, seen)));
}

function everyObjectFrozen(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return true;
  return Object.isFrozen(v) && Object.values(v as object).every(everyObjectFrozen);
}

describe('a plan from a worker on the main thread', () => {
  it('crosses as a few strings (no long array) and unpacks to the same plan, ExactNumbers included', async () => {
    {
      const plan = planOf(orChain(6_000));
      const packed = packForTransfer(plan);
      expect(packed.tagged).toBe(true);
      const sent = structuredClone(packed.value);
      expect(longestArray(sent)).toBeLessThanOrEqual(PACKED_ELEMENTS_PER_CHUNK);
      const { result, turns } = await turnsDuring(() => unpackInSlices(sent));
      expect(result).toEqual(plan);
      expect(turns).toBeGreaterThanOrEqual(2);
    }
    // A short plan is not packed: nothing to unpack on the hot path.
    expect(packForTransfer(planOf(orChain(3))).tagged).toBe(false);
    // What JSON would not keep exactly (ExactNumber, bigint, bytes, undefined, -0, holes) is left
    // to structured clone; only the rest is packed.
    const n = PACKED_ELEMENTS_PER_CHUNK + 1;
    const mixed = {
      exact: new ExactNumber('1.50'),
      binds: Array.from({ length: n }, (_, i) => ({ bind: `v${i}` })),
      exacts: Array.from({ length: n }, (_, i) => ({ kind: 'literal', value: new ExactNumber(`${i}.5`) })),
      bigints: Array.from({ length: n }, (_, i) => BigInt(i)),
      bytes: Array.from({ length: n }, (_, i) => (i === 7 ? new Uint8Array([1, 2]) : 'x')),
      undefs: Array.from({ length: n }, (_, i) => ({ a: i === 3 ? undefined : 1 })),
      zeros: Array.from({ length: n }, (_, i) => (i === 5 ? -0 : 0)),
      holes: Object.assign(new Array(n), { 0: 'a' }),
    };
    const packedMixed = packForTransfer(mixed);
    const unpacked = await unpackInSlices(structuredClone(packedMixed.value));
    expect(unpacked).toEqual(mixed);
    expect(Object.is(unpacked.zeros[5], -0)).toBe(true);
    expect('a' in unpacked.undefs[3]!).toBe(true);
    expect(1 in unpacked.holes).toBe(false);
    expect(longestArray(structuredClone(packedMixed.value).binds)).toBeLessThanOrEqual(PACKED_ELEMENTS_PER_CHUNK);
  });

  it('is frozen in slices of bounded work: at n and 10n terms, no slice over twice its size, slices linear in n', async () => {
    const perSlice = 256;
    const measure = async (n: number) => {
      const slices: number[] = [];
      const plan = await deepFreezeInSlices(planOf(orChain(n)), perSlice, (objects) => slices.push(objects));
      expect(everyObjectFrozen(plan)).toBe(true);
      expect(plan).toEqual(deepFreeze(planOf(orChain(n))));
      return slices;
    };
    const small = await measure(500);
    const large = await measure(5_000);
    expect(Math.max(...small)).toBeLessThanOrEqual(2 * perSlice);
    expect(Math.max(...large)).toBeLessThanOrEqual(2 * perSlice);
    expect(large.length).toBeLessThanOrEqual(12 * small.length);
    expect(large.length).toBeGreaterThanOrEqual(5 * small.length);
  });

  it('gets its bind vars rebuilt in slices: same keys, same order, same values', async () => {
    for (const literal of [(i: number) => String(i), (i: number) => `${i}.5`, (i: number) => `'s${i}'`]) {
      const sql = orChain(5_000, literal);
      const direct = normalize(sql);
      const perSlice = 500;
      const { result, turns } = await turnsDuring(() => bindVarsInSlices(structuredClone(normalizedReply(7, normalize(sql))), perSlice));
      expect(Object.keys(result.bindVars)).toEqual(Object.keys(direct.bindVars));
      expect(result).toEqual(direct);
      expect(turns).toBeGreaterThanOrEqual(5_000 / perSlice - 1);
    }
    const decimal = await bindVarsInSlices(structuredClone(normalizedReply(1, normalize('select 1.5'))));
    expect(Object.values(decimal.bindVars)[0]).toBeInstanceOf(ExactNumber);
  });

  it("is described without its SQL text for the status page's plan statistics (same shape, no text)", () => {
    const plan = planOf(orChain(50));
    const full = toVitessJson(plan) as { Instructions: Record<string, unknown> };
    const shape = toVitessJson(plan, { texts: false }) as { Instructions: Record<string, unknown> };
    expect(full.Instructions.Query).toContain('id = :v50');
    expect(shape.Instructions).toEqual({ ...full.Instructions, Query: '', Values: [''] });
    // The default is full text again after a call without it.
    expect(toVitessJson(plan)).toEqual(full);
  });
});
