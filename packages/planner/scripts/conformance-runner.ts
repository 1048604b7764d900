/**
 * Runs Vitess's planbuilder cases (select/aggr/filter) against the shardgate planner and scores
 * them. The case files stay in ../shared/conformance/vitess-planbuilder (Apache-2.0, The Vitess
 * Authors); they are read at run time, never copied into this repository.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadVSchema } from '@shardgate/vschema';
import { Planner } from '../src/planner.js';
import { toVitessJson } from '../src/vitess-json.js';

export const CASE_FILES = ['select', 'aggr', 'filter'] as const;

/** The conformance folder: ../shared/conformance/vitess-planbuilder from the repository root. */
export function conformanceDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const repoRoot = resolve(here, '../../..');
  return resolve(repoRoot, '../shared/conformance/vitess-planbuilder');
}

export type Outcome =
  /** Single top-level Route: same Variant and Keyspace. */
  | 'matched'
  /** Non-Route top level: same operator tree shape (operators, route variants and keyspaces). */
  | 'shape-matched'
  /** Vitess expects an error and shardgate refuses too. */
  | 'error-matched'
  /** shardgate refuses with a clear error. */
  | 'unsupported'
  /** Non-Route top level: shardgate plans it with a different multi-operator shape. */
  | 'shape-differs'
  /**
   * Vitess refuses a construct MySQL and MariaDB accept, and shardgate answers it (see
   * BEYOND_VITESS: each one has a differential test against one MariaDB).
   */
  | 'beyond-vitess'
  /** A different route for a single-Route case, a single route where Vitess needs several, or success where Vitess expects an error. */
  | 'wrong';

/**
 * Vitess errors that are Vitess's own restrictions, not errors of the statement: MariaDB answers
 * it, and so does shardgate, checked against one MariaDB by the named test. Planning such a case
 * is counted apart, never as wrong; any other planned error case still is.
 */
const BEYOND_VITESS: readonly { readonly error: string; readonly test: string }[] = [
  // COUNT(DISTINCT a, b): the shards group by each, the gateway counts distinct tuples.
  { error: 'VT03001: aggregate functions take a single argument', test: 'packages/e2e-tests/test/semantics-differential.int.test.ts' },
];

export interface CaseResult {
  readonly file: string;
  readonly comment: string;
  readonly query: string;
  readonly expectedTop: string;
  readonly outcome: Outcome;
  readonly detail: string;
}

type Node = { OperatorType?: string; Variant?: string; Keyspace?: { Name?: string }; Inputs?: Node[] };

/** Operator tree shape: operator, variant, and the keyspace of routes. */
export function shape(n: Node): string {
  const op = n.OperatorType ?? '?';
  const variant = n.Variant ? `[${n.Variant}${op === 'Route' || op === 'VindexLookup' ? ' ' + (n.Keyspace?.Name ?? '') : ''}]` : '';
  const inputs = (n.Inputs ?? []).map(shape);
  return op + variant + (inputs.length > 0 ? `(${inputs.join(', ')})` : '');
}

function multiShard(n: Node): boolean {
  if (n.OperatorType === 'Route' && ['Scatter', 'IN', 'Equal', 'MultiEqual', 'SubShard'].includes(n.Variant ?? '')) return true;
  return (n.Inputs ?? []).some(multiShard);
}

function countRoutes(n: Node): number {
  return (n.OperatorType === 'Route' ? 1 : 0) + (n.Inputs ?? []).reduce((s, x) => s + countRoutes(x), 0);
}

export async function runConformance(dir = conformanceDir()): Promise<CaseResult[]> {
  const vschema = loadVSchema(JSON.parse(readFileSync(resolve(dir, 'schema.json'), 'utf8')));
  const planner = new Planner({ vschema, freezePlans: false });
  const results: CaseResult[] = [];
  try {
    for (const file of CASE_FILES) {
      const cases = JSON.parse(readFileSync(resolve(dir, `${file}_cases.json`), 'utf8')) as { comment: string; query: string; plan: unknown }[];
      for (const c of cases) {
        let got: Node | null = null;
        let error: string | null = null;
        try {
          const planned = await planner.plan(c.query, {});
          got = (toVitessJson(planned.plan) as { Instructions: Node }).Instructions;
        } catch (e) {
          error = (e as Error).message;
        }
        const base = { file, comment: c.comment, query: c.query };
        if (typeof c.plan === 'string') {
          const beyond = error === null ? BEYOND_VITESS.find((b) => (c.plan as string).startsWith(b.error)) : undefined;
          const outcome = error !== null ? 'error-matched' : beyond !== undefined ? 'beyond-vitess' : 'wrong';
          results.push({ ...base, expectedTop: 'error', outcome, detail: error ?? `planned ${shape(got!)}; Vitess: ${c.plan}${beyond ? ` (answered as MariaDB does: ${beyond.test})` : ''}` });
          continue;
        }
        const exp = (c.plan as { Instructions: Node }).Instructions;
        const expectedTop = exp.OperatorType ?? '?';
        if (error !== null) {
          results.push({ ...base, expectedTop, outcome: 'unsupported', detail: error });
          continue;
        }
        if (expectedTop === 'Route') {
          const ok = got!.OperatorType === 'Route' && got!.Variant === exp.Variant && got!.Keyspace?.Name === exp.Keyspace?.Name;
          results.push({ ...base, expectedTop, outcome: ok ? 'matched' : 'wrong', detail: ok ? '' : `got ${shape(got!)}; Vitess ${shape(exp)}` });
          continue;
        }
        const same = shape(got!) === shape(exp);
        // One route where Vitess needs several means shardgate merged what Vitess would not; and
        // a multi-shard plan without a LIMIT/aggregation/filter that Vitess applies at the gateway
        // means the shards would answer it piecewise.
        const gatewayOps = (n: Node, acc = new Set<string>()): Set<string> => {
          if (n.OperatorType) acc.add(n.OperatorType);
          for (const i of n.Inputs ?? []) gatewayOps(i, acc);
          return acc;
        };
        const gotOps = gatewayOps(got!);
        const expOps = gatewayOps(exp);
        const missingGatewayWork = multiShard(got!) && ['Limit', 'Aggregate', 'Filter'].some((op) => expOps.has(op) && !gotOps.has(op));
        const suspicious = (countRoutes(got!) < countRoutes(exp) && got!.OperatorType === 'Route') || missingGatewayWork;
        results.push({ ...base, expectedTop, outcome: same ? 'shape-matched' : suspicious ? 'wrong' : 'shape-differs', detail: same ? '' : `got ${shape(got!)}; Vitess ${shape(exp)}` });
      }
    }
  } finally {
    planner.dispose();
  }
  return results;
}

export interface FileSummary {
  readonly file: string;
  readonly cases: number;
  readonly routeCases: number;
  readonly routeMatched: number;
  readonly otherCases: number;
  readonly shapeMatched: number;
  readonly errorCases: number;
  readonly errorMatched: number;
  readonly unsupported: number;
  readonly shapeDiffers: number;
  readonly beyondVitess: number;
  readonly wrong: number;
}

export function summarize(results: readonly CaseResult[]): FileSummary[] {
  const files = [...CASE_FILES, 'total'];
  return files.map((file) => {
    const rs = file === 'total' ? results : results.filter((r) => r.file === file);
    const count = (f: (r: CaseResult) => boolean): number => rs.filter(f).length;
    return {
      file,
      cases: rs.length,
      routeCases: count((r) => r.expectedTop === 'Route'),
      routeMatched: count((r) => r.outcome === 'matched'),
      otherCases: count((r) => r.expectedTop !== 'Route' && r.expectedTop !== 'error'),
      shapeMatched: count((r) => r.outcome === 'shape-matched'),
      errorCases: count((r) => r.expectedTop === 'error'),
      errorMatched: count((r) => r.outcome === 'error-matched'),
      unsupported: count((r) => r.outcome === 'unsupported'),
      shapeDiffers: count((r) => r.outcome === 'shape-differs'),
      beyondVitess: count((r) => r.outcome === 'beyond-vitess'),
      wrong: count((r) => r.outcome === 'wrong'),
    };
  });
}

export function conformanceAvailable(dir = conformanceDir()): boolean {
  return CASE_FILES.every((f) => existsSync(resolve(dir, `${f}_cases.json`))) && existsSync(resolve(dir, 'schema.json'));
}

export function formatTable(summary: readonly FileSummary[]): string {
  const pct = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);
  const lines = [
    '| file | cases | single-Route cases | Route matched (Variant+Keyspace) | other cases | shape matched | error cases | error matched | answered beyond Vitess | unsupported (clear error) | shape differs | wrong |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of summary) {
    lines.push(
      `| ${s.file} | ${s.cases} | ${s.routeCases} | ${s.routeMatched} (${pct(s.routeMatched, s.routeCases)}) | ${s.otherCases} | ${s.shapeMatched} | ${s.errorCases} | ${s.errorMatched} | ${s.beyondVitess} | ${s.unsupported} | ${s.shapeDiffers} | ${s.wrong} |`,
    );
  }
  return lines.join('\n');
}
