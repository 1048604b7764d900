/**
 * Hand-built plans for tests, in exactly the format @shardgate/planner produces. They let the
 * executor be tested shape by shape, including shapes the planner does not plan yet.
 */
import type {
  BindVars,
  KeyspaceRef,
  OrderByKey,
  Plan,
  PlannedQuery,
  Primitive,
  QueryTemplate,
  RoutePrimitive,
  RouteVariant,
  SessionPrimitive,
  SqlValue,
  TemplatePart,
  ValueExpr,
} from '@shardgate/planner';
import type { PlannerLike } from '../../src/index.js';

export const ks = (name: string, sharded = true): KeyspaceRef => ({ name, sharded });

/** tpl`select * from t where id = ${bind('v1')}` */
export function tpl(strings: TemplateStringsArray, ...parts: TemplatePart[]): QueryTemplate {
  const out: TemplatePart[] = [];
  strings.forEach((s, i) => {
    if (s) out.push(s);
    if (i < parts.length) out.push(parts[i]);
  });
  return { parts: out };
}
export const bind = (name: string): TemplatePart => ({ bind: name });
export const list = (name: string): TemplatePart => ({ list: name });
export const sql = (text: string): QueryTemplate => ({ parts: [text] });
export const bindExpr = (name: string): ValueExpr => ({ kind: 'bind', name });

export function route(variant: RouteVariant, keyspace: KeyspaceRef, query: QueryTemplate, extra: Partial<RoutePrimitive> = {}): RoutePrimitive {
  return { operator: 'Route', variant, keyspace, query, ...extra };
}

export function plan(instructions: Primitive, queryType: Plan['queryType'] = 'SELECT'): Plan {
  return { queryType, instructions, tablesUsed: [] };
}

export const asc = (column: number, weightStringColumn?: number): OrderByKey => ({ column, weightStringColumn, desc: false });
export const desc = (column: number, weightStringColumn?: number): OrderByKey => ({ column, weightStringColumn, desc: true });

type Entry = { match: RegExp; build: (m: RegExpExecArray, params: readonly SqlValue[]) => PlannedQuery };

/**
 * A planner for tests: statements are matched by regular expression and planned by hand.
 * Session statements (BEGIN, SET x = v, USE…) are understood generically.
 */
export class FixturePlanner implements PlannerLike {
  private readonly entries: Entry[] = [];

  on(match: RegExp, build: (m: RegExpExecArray, params: readonly SqlValue[]) => PlannedQuery | Plan): this {
    this.entries.push({
      match,
      build: (m, p) => {
        const r = build(m, p);
        return 'instructions' in r ? { plan: r, bindVars: {} } : r;
      },
    });
    return this;
  }

  plan(text: string, opts: { keyspace?: string | null; params?: readonly SqlValue[] }): PlannedQuery {
    const s = text.trim();
    const session = sessionPlan(s);
    if (session) return { plan: plan(session, 'SET'), bindVars: {} };
    for (const e of this.entries) {
      const m = e.match.exec(s);
      if (m) return e.build(m, opts.params ?? []);
    }
    throw Object.assign(new Error(`FixturePlanner: no plan for: ${s}`), { errno: 1105, sqlState: 'HY000' });
  }
}

function literal(text: string): SqlValue {
  const t = text.trim();
  if (/^'.*'$/.test(t)) return t.slice(1, -1);
  if (/^-?\d+$/.test(t)) return BigInt(t);
  return t;
}

function sessionPlan(s: string): SessionPrimitive | null {
  const stmt = (statement: SessionPrimitive['statement']): SessionPrimitive => ({ operator: 'Session', statement });
  if (/^(begin|start transaction)$/i.test(s)) return stmt({ kind: 'begin' });
  if (/^commit$/i.test(s)) return stmt({ kind: 'commit' });
  if (/^rollback$/i.test(s)) return stmt({ kind: 'rollback' });
  const sp = /^(savepoint|rollback to savepoint|release savepoint)\s+(\w+)$/i.exec(s);
  if (sp) {
    const kind = ({ savepoint: 'savepoint', 'rollback to savepoint': 'rollback-to-savepoint', 'release savepoint': 'release-savepoint' } as const)[sp[1].toLowerCase() as 'savepoint'];
    return stmt({ kind, savepoint: { name: sp[2], key: sp[2].toLowerCase(), sql: `\`${sp[2]}\`` } });
  }
  let m = /^use\s+`?([^`\s]+)`?$/i.exec(s);
  if (m) return stmt({ kind: 'use', keyspace: m[1] });
  m = /^set\s+(?:session\s+|@@session\.|@@)?(\w+)\s*=\s*(.+)$/i.exec(s);
  if (m) {
    const v = m[2].trim();
    return stmt({
      kind: 'set',
      assignments: [{ scope: 'session', name: m[1], value: /^default$/i.test(v) ? { kind: 'default' } : { kind: 'literal', value: literal(v) } }],
    });
  }
  m = /^show\s+(databases|tables|warnings|variables|columns|create table)\b(?:.*?\blike\s+'([^']*)')?/i.exec(s);
  if (m) return stmt({ kind: 'show', what: m[1], like: m[2] });
  m = /^select\s+(@@[\w.]+|database\(\)|last_insert_id\(\))(?:\s+limit\s+1)?$/i.exec(s);
  if (m) return stmt({ kind: 'select-system', columns: [{ name: m[1], expr: m[1] }] });
  return null;
}

export function planned(p: Plan, bindVars: BindVars = {}): PlannedQuery {
  return { plan: p, bindVars };
}
