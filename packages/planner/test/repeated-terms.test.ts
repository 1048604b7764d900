/**
 * Long runs of repeated terms (OR / AND chains, UNION ALL parts) reach node-sql-parser as one term
 * (repeated-terms.ts): the AST must be the one the parser builds from the whole text, and the text
 * the parser gets must not grow with the run.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { normalize } from '../src/normalizer.js';
import { tokenize } from '../src/lexer.js';
import { parseStatement, sqlParser, type Ast } from '../src/sql-parser.js';
import { buildPlan } from '../src/statement-planner.js';
import { MIN_RUN } from '../src/repeated-terms.js';
import type { ConcatenatePrimitive } from '../src/plan-types.js';
import { demoVSchema } from './fixtures.js';

const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => i + from);

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * The AST compared: chains of one operator as flat lists (a balanced and a left-deep tree are the
 * same chain), and every location as the tokens it spans (what the planner reads of it:
 * tokenRange; the parser lets a location end in the whitespace after a node or not, depending
 * on what follows).
 */
function comparable(n: Ast, offsets: readonly number[]): Ast {
  const tokenAt = (o: number): number => {
    let i = 0;
    while (i < offsets.length && offsets[i]! < o) i++;
    return i;
  };
  const flatten = (n: Ast): Ast => {
    if (n === null || typeof n !== 'object') return n;
    if (Array.isArray(n)) return n.map(flatten);
    if (n.start && n.end && typeof n.start.offset === 'number') return [tokenAt(n.start.offset), tokenAt(n.end.offset)];
    if (n.type === 'binary_expr' && (n.operator === 'OR' || n.operator === 'AND')) {
      const terms: Ast[] = [];
      const pending = [n.right, n.left];
      while (pending.length > 0) {
        const x = pending.pop();
        if (x?.type === 'binary_expr' && x.operator === n.operator && !x.parentheses) pending.push(x.right, x.left);
        else terms.push(flatten(x));
      }
      return { chain: n.operator, terms, ...(n.parentheses ? { parentheses: true } : {}) };
    }
    const out: Ast = {};
    for (const k of Object.keys(n)) if (k !== 'loc' || n.type !== 'binary_expr' || (n.operator !== 'OR' && n.operator !== 'AND')) out[k] = flatten(n[k]);
    return out;
  };
  return flatten(n);
}

/** Parses through parseStatement, recording the texts node-sql-parser was given. */
function parseRecording(sql: string): { ast: Ast; parsed: number[]; normalized: string } {
  const n = normalize(sql);
  const parser = sqlParser();
  const real = parser.astify.bind(parser);
  const parsed: number[] = [];
  vi.spyOn(parser, 'astify').mockImplementation((text: string, opt: object) => {
    // What the parser reads: the text without the whitespace that replaced repeated terms.
    parsed.push(text.replace(/\s+/g, ' ').trim().length);
    return real(text, opt);
  });
  const p = parseStatement(n.normalized, tokenize(n.normalized));
  vi.restoreAllMocks();
  return { ast: p.ast, parsed, normalized: n.normalized };
}

/** The parse text's offset of each token (the tokens, space-joined where the text had space). */
function parseOffsets(normalized: string): { pt: string; offsets: number[] } {
  let pt = '';
  const offsets: number[] = [];
  tokenize(normalized).forEach((t, i) => {
    if (i > 0 && t.spaceBefore) pt += ' ';
    offsets.push(pt.length);
    pt += t.text;
  });
  return { pt, offsets };
}

/** Both ASTs, comparable: ours, and the parser's own of the whole normalized text. */
function bothAsts(ast: Ast, normalized: string): [Ast, Ast] {
  const { pt, offsets } = parseOffsets(normalized);
  return [comparable(ast, offsets), comparable(sqlParser().astify(pt, { database: 'MySQL', parseOptions: { includeLocations: true } }), offsets)];
}

const N = 3 * MIN_RUN;
const cases: [string, string][] = [
  ['an OR chain on the vindex', `select id from customer where ${range(N).map((i) => `id = ${i}`).join(' or ')}`],
  ['an OR chain of qualified, parenthesized AND terms', `select c.id from customer c where ${range(N).map((i) => `(c.id = ${i} and c.name like 'n%${i}')`).join(' or ')} order by c.id limit 5`],
  ['an AND chain', `select id from customer where ${range(N).map((i) => `name <> 'x${i}'`).join(' and ')}`],
  ['runs between other terms of a chain', `select id from customer where name = 'a' or ${range(N).map((i) => `id = ${i}`).join(' or ')} or id between 5 and 6 or ${range(N).map((i) => `email = 'e${i}'`).join(' or ')}`],
  ['an OR chain in a subquery', `select id from customer where id in (select customer_id from orders where ${range(N).map((i) => `customer_id = ${i}`).join(' or ')}) and name = 'x'`],
  ['an OR chain in HAVING', `select name, count(*) from customer group by name having ${range(N).map((i) => `count(*) = ${i}`).join(' or ')}`],
  ['UNION ALL parts', range(N).map((i) => `select id, name from customer where id = ${i * 3}`).join(' union all ')],
  ['parenthesized UNION ALL parts between others, with a tail', `select id, name from customer where id = 0 union all ${range(N).map((i) => `(select id, name from customer where id > ${i} order by id limit 1)`).join(' union all ')} union all select 1, 'a' order by 1`],
];

describe('repeated terms reach the parser once', () => {
  for (const [name, sql] of cases) {
    it(`${name}: the same AST as the whole text's, from a short parse text`, () => {
      const { ast, parsed, normalized } = parseRecording(sql);
      const [ours, whole] = bothAsts(ast, normalized);
      expect(ours).toEqual(whole);
      // One parse, of a text that holds one term of each run: far shorter than the statement.
      expect(parsed).toHaveLength(1);
      expect(parsed[0]!).toBeLessThan(normalized.length / 10);
    });
  }

  it('gives the parser the same text for 10x the terms (its work does not grow with the run)', () => {
    const chain = (n: number): string => `select id from customer where ${range(n).map((i) => `id = ${i}`).join(' or ')}`;
    const union = (n: number): string => range(n).map((i) => `select id, name from customer where id = ${i}`).join(' union all ');
    expect(parseRecording(chain(10 * N)).parsed).toEqual(parseRecording(chain(N)).parsed);
    expect(parseRecording(union(10 * N)).parsed).toEqual(parseRecording(union(N)).parsed);
  });

  it('keeps a chain whose terms differ, or that is shorter than a run, as written', () => {
    const sql = `select id from customer where ${range(N).map((i) => `id = ${i} or name = 'n${i}'`).join(' or ')}`;
    const { ast, parsed, normalized } = parseRecording(sql);
    expect(parsed).toEqual([normalized.length]);
    const [ours, whole] = bothAsts(ast, normalized);
    expect(ours).toEqual(whole);
    const short = `select id from customer where ${range(MIN_RUN - 2).map((i) => `id = ${i}`).join(' or ')}`;
    expect(parseRecording(short).parsed).toEqual([normalize(short).normalized.length]);
  });

  it('reports a syntax error in a repeated term as the whole text does', () => {
    const sql = `select id from customer where ${range(N).map((i) => `id = = ${i}`).join(' or ')}`;
    const n = normalize(sql);
    expect(() => parseStatement(n.normalized, tokenize(n.normalized))).toThrow(/near '= :v1 or id = = :v2/);
  });
});

describe('repeated UNION ALL parts are planned once', () => {
  it('gives every part the plan it gets on its own, with its own bind vars', () => {
    const vschema = demoVSchema();
    const parts = range(N).map((i) => `select id, name from customer where id = ${i * 3}`);
    const n = normalize(parts.join(' union all '));
    const plan = buildPlan({ normalized: n, target: null, vschema });
    const concat = plan.instructions as ConcatenatePrimitive;
    expect(concat.operator).toBe('Concatenate');
    expect(concat.inputs).toHaveLength(N);
    concat.inputs.forEach((input, k) => {
      // Part k alone, its literal bound to the name it has in the whole statement.
      const alone = buildPlan({ normalized: { ...normalize(parts[k]!), normalized: `select id, name from customer where id = :v${k + 1}` }, target: null, vschema });
      expect(input).toEqual(alone.instructions);
    });
  });
});
