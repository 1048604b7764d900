/**
 * Issue 11, requirement 1: nothing on the event loop grows worse than linearly with a statement's
 * size. Not timed: the work is counted. While a measured call runs, String.prototype's character
 * reads (charCodeAt, charAt, codePointAt, indexing via at) count one each, searches (indexOf,
 * lastIndexOf, includes, startsWith) count the characters they scan, and copies (slice, substring,
 * substr) the characters they copy. Each input is measured at n and 10n: 10n must cost at most
 * about 10 times n (a quadratic step would cost 100 times).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tokenize } from '../src/lexer.js';
import { normalize } from '../src/normalizer.js';
import { renderQuery, templateFromSql } from '../src/query-template.js';
import { scanInList, scanInsertRows } from '../src/literal-list-scanner.js';
import { parseStatement } from '../src/sql-parser.js';

type Patched = 'charCodeAt' | 'charAt' | 'codePointAt' | 'at' | 'indexOf' | 'lastIndexOf' | 'includes' | 'startsWith' | 'slice' | 'substring' | 'substr';
const originals = new Map<Patched, (...args: unknown[]) => unknown>();
let work = 0;

function startCounting(): void {
  const proto = String.prototype as unknown as Record<Patched, (...args: unknown[]) => unknown>;
  const wrap = (name: Patched, cost: (s: string, args: unknown[], result: unknown) => number): void => {
    const original = proto[name]!;
    originals.set(name, original);
    proto[name] = function (this: string, ...args: unknown[]) {
      const result = original.apply(this, args);
      work += cost(String(this), args, result);
      return result;
    };
  };
  for (const name of ['charCodeAt', 'charAt', 'codePointAt', 'at'] as const) wrap(name, () => 1);
  wrap('indexOf', (s, args, r) => {
    const from = Math.max(0, Number(args[1] ?? 0));
    return 1 + ((r as number) >= 0 ? (r as number) - from : s.length - from);
  });
  wrap('lastIndexOf', (s, args, r) => 1 + (args[1] === undefined ? s.length : Number(args[1])) - Math.max(0, r as number));
  wrap('includes', (s) => 1 + s.length);
  wrap('startsWith', (_s, args) => 1 + String(args[0]).length);
  for (const name of ['slice', 'substring', 'substr'] as const) wrap(name, (_s, _a, r) => 1 + (r as string).length);
}

function stopCounting(): void {
  const proto = String.prototype as unknown as Record<Patched, unknown>;
  for (const [name, f] of originals) proto[name] = f;
  originals.clear();
}

afterEach(stopCounting);

/** The counted work of f(input(n)), the input built outside the count. */
function workOf<T>(input: T, f: (x: T) => unknown): number {
  work = 0;
  startCounting();
  try {
    f(input);
  } catch {
    // An error is an answer too: its message ("near '…'") is part of the work counted.
  } finally {
    stopCounting();
  }
  return work;
}

/** Work at 10n over work at n. */
function growth<T>(build: (n: number) => T, f: (x: T) => unknown, n: number): number {
  // Once first, so that one-time work (module state, caches) is not counted at n only.
  workOf(build(n), f);
  const small = workOf(build(n), f);
  const large = workOf(build(10 * n), f);
  expect(small).toBeGreaterThan(0);
  return large / small;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
const LINEAR = 12;

describe('work grows linearly with the statement (counted, not timed)', () => {
  const inList = (n: number): string => `select id from customer where id in (${range(n).join(',')})`;
  const unclosedIn = (n: number): string => `select id from customer where id in (${'1,'.repeat(n)}1`;
  const unterminated = (n: number): string => `select id from customer where name = 'abc${'s'.repeat(n)}`;
  const insert = (n: number): string => `insert into customer (id, name) values ${range(n).map((i) => `(${i},'name-${i}')`).join(',')}`;
  const orChain = (n: number): string => `select id from customer where ${range(n).map((i) => `id = ${i}`).join(' or ')}`;
  const comment = (n: number): string => `select id from customer where id = 11 /* ${'c'.repeat(n)} */`;
  const literal = (n: number): string => `select id from customer where name <> '${"x'y\\\\".repeat(n)}'`;

  const cases: [string, (n: number) => string][] = [
    ['an IN list', inList],
    ['an unclosed IN list', unclosedIn],
    ['an unterminated string', unterminated],
    ['a multi-row INSERT', insert],
    ['an OR chain', orChain],
    ['a comment', comment],
    ['a string literal with escapes', literal],
  ];
  for (const [name, build] of cases) {
    it(`the lexer on ${name}`, () => {
      expect(growth(build, (sql) => tokenize(sql), 1000)).toBeLessThan(LINEAR);
    });
    it(`the normalizer (literal scanners and "near '…'" errors included) on ${name}`, () => {
      expect(growth(build, (sql) => normalize(sql), 1000)).toBeLessThan(LINEAR);
    });
  }

  it('the literal scanners on an IN list and INSERT rows', () => {
    expect(growth((n) => inList(n), (sql) => scanInList(sql, sql.indexOf('(')), 1000)).toBeLessThan(LINEAR);
    expect(growth((n) => insert(n), (sql) => scanInsertRows(sql, sql.indexOf('values') + 6), 1000)).toBeLessThan(LINEAR);
  });

  it('query templates: built from SQL and rendered with long lists and strings', () => {
    expect(growth((n) => orChain(n).replace(/id = (\d+)/g, 'id = :v$1'), (sql) => templateFromSql(sql), 1000)).toBeLessThan(LINEAR);
    const template = templateFromSql('select id from customer where id in ::v1 and name <> :v2');
    expect(growth((n) => ({ v1: range(n).map(BigInt), v2: "it's\\".repeat(n) }), (bv) => renderQuery(template, bv), 1000)).toBeLessThan(LINEAR);
  });

  it('the parser adapter and its syntax error text on a long statement (repeated terms parsed once)', () => {
    const parse = (sql: string): unknown => {
      const n = normalize(sql);
      return parseStatement(n.normalized, tokenize(n.normalized));
    };
    expect(growth(orChain, parse, 200)).toBeLessThan(LINEAR);
    // A syntax error at the end of a long statement: its "near '…'" text is cut, not the rest of the statement.
    expect(growth((n) => `${orChain(n)} or or`, parse, 200)).toBeLessThan(LINEAR);
  });
});
