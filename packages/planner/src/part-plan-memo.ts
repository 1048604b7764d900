/**
 * Plans of UNION parts that repeat, built once (issue 11): 2,000 parts `select … where id = :v7`
 * differ only in their bind vars, and parsing each on its own cost over a second. A part whose
 * tokens equal an earlier part's but for the names of its bind vars gets a copy of that part's
 * plan with the names swapped, where that is provably the same plan:
 * - the earlier part's plan is one Route (nothing evaluated at the gateway, and no pulled-out
 *   subquery whose bind var names would be shared between the copies);
 * - no other token of the part mentions a bind var's name, and no string of the plan contains
 *   one other than as a whole string (a bind var's name in a template part, a route value…).
 * Otherwise the part is planned on its own, as before.
 */
import type { Plan, Primitive } from './plan-types.js';
import type { Token } from './lexer.js';

interface Entry {
  readonly from: number;
  /** The first part's Route, or null when parts of this shape are planned one by one. */
  readonly plan: Primitive | null;
}

/** Concurrency rule: used by one planUnionParts call (synchronous), never shared. */
export class PartPlanMemo {
  private readonly byShape = new Map<string, Entry>();

  constructor(private readonly tokens: readonly Token[]) {}

  /** The plan of tokens [from, to): a renamed copy of an earlier identical part's, or `plan()`. */
  planPart(from: number, to: number, plan: () => Plan): Primitive {
    const key = this.shape(from, to);
    const entry = this.byShape.get(key);
    if (entry !== undefined && entry.plan !== null) {
      const copy = renamed(entry.plan, this.renaming(entry.from, from, to - from));
      if (copy !== null) return copy;
    }
    const built = plan().instructions;
    if (entry === undefined) this.byShape.set(key, { from, plan: built.operator === 'Route' && this.namesOnlyInBinds(from, to) ? built : null });
    return built;
  }

  private shape(from: number, to: number): string {
    let s = '';
    for (let i = from; i < to; i++) {
      const t = this.tokens[i]!;
      s += (t.kind === 'bind' ? '\u0001' : t.text) + '\u0000';
    }
    return s;
  }

  /** The earlier part's bind names → this part's, position by position. */
  private renaming(earlier: number, from: number, length: number): Map<string, string> | null {
    const m = new Map<string, string>();
    for (let i = 0; i < length; i++) {
      const a = this.tokens[earlier + i]!;
      if (a.kind !== 'bind') continue;
      const name = a.text.slice(1);
      const to = this.tokens[from + i]!.text.slice(1);
      if (m.has(name) && m.get(name) !== to) return null;
      m.set(name, to);
    }
    return m;
  }

  /** No token but the bind vars themselves contains a bind var's name. */
  private namesOnlyInBinds(from: number, to: number): boolean {
    const names: string[] = [];
    for (let i = from; i < to; i++) if (this.tokens[i]!.kind === 'bind') names.push(this.tokens[i]!.text.slice(1).toLowerCase());
    for (let i = from; i < to; i++) {
      const t = this.tokens[i]!;
      if (t.kind === 'bind') continue;
      const text = t.text.toLowerCase();
      if (names.some((n) => text.includes(n))) return false;
    }
    return true;
  }
}

/** A deep copy with every string equal to a renamed name swapped; null if a name hides inside a string. */
function renamed(p: Primitive, names: Map<string, string> | null): Primitive | null {
  if (names === null) return null;
  const keys = [...names.keys()];
  let ok = true;
  const copy = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const to = names.get(v);
      if (to !== undefined) return to;
      if (keys.some((k) => v.includes(k))) ok = false;
      return v;
    }
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(copy);
    // Values (ExactNumber, Uint8Array…) are immutable and carry no names.
    if (Object.getPrototypeOf(v) !== Object.prototype) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = copy(x);
    return out;
  };
  const out = copy(p) as Primitive;
  return ok ? out : null;
}
