/**
 * Shrink steps for a failing random query: every candidate is the query with one thing removed
 * or simplified (a UNION part, a select item, a predicate or half of one, HAVING, GROUP BY keys
 * nobody selects, DISTINCT, ORDER BY, LIMIT, OFFSET, a join or its extra ON filter). A candidate
 * may be invalid SQL (a dropped join still referenced): the runner rejects it because the
 * reference fails too. Candidates never break the rules that keep the answer deterministic: the
 * total ORDER BY is recomputed at render time, and GROUP BY keys that are selected stay.
 */
import type { JoinClause, Predicate, RandomQuery, SelectQuery } from './random-query-model.js';

/** Candidates smaller than `q`, most aggressive first. */
export function shrinkCandidates(q: RandomQuery): RandomQuery[] {
  if (q.kind === 'union') {
    const u = q.union;
    const out: RandomQuery[] = u.parts.map((p) => ({ kind: 'select', select: { ...p, order: null } }));
    if (u.parts.length > 2) {
      for (let i = 0; i < u.parts.length; i++) out.push({ kind: 'union', union: { ...u, parts: u.parts.filter((_, j) => j !== i) } });
    }
    if (u.order !== null) {
      out.push({ kind: 'union', union: { ...u, order: null } });
      if (u.order.limit !== undefined) out.push({ kind: 'union', union: { ...u, order: { ...u.order, limit: undefined, offset: undefined } } });
    }
    // Shrink every part the same way (they share their select list).
    const first = u.parts[0];
    for (const c of selectCandidates(first)) {
      if (c.items !== first.items) out.push({ kind: 'union', union: { ...u, parts: u.parts.map((p) => ({ ...p, items: c.items })) } });
    }
    u.parts.forEach((p, i) => {
      for (const c of selectCandidates(p)) {
        if (c.items === p.items) out.push({ kind: 'union', union: { ...u, parts: u.parts.map((x, j) => (j === i ? c : x)) } });
      }
    });
    return out;
  }
  return selectCandidates(q.select).map((select) => ({ kind: 'select', select }));
}

function selectCandidates(s: SelectQuery): SelectQuery[] {
  const out: SelectQuery[] = [];
  // Joins, last first (later joins are the ones nothing else depends on).
  for (let i = s.joins.length - 1; i >= 0; i--) out.push({ ...s, joins: s.joins.filter((_, j) => j !== i) });
  if (s.order !== null) {
    // Without its ORDER BY, which row is last (whose LAST_INSERT_ID value is kept) is unspecified.
    out.push({ ...s, order: null, lastInsertId: undefined });
    if (s.order.limit !== undefined) out.push({ ...s, order: { ...s.order, limit: undefined, offset: undefined } });
    if (s.order.offset !== undefined) out.push({ ...s, order: { ...s.order, offset: undefined } });
    if (s.order.lead.length > 0) out.push({ ...s, order: { ...s.order, lead: [] } });
    if (s.order.desc.some((d) => d)) out.push({ ...s, order: { ...s.order, desc: [false] } });
  }
  if (s.having.length > 0) out.push({ ...s, having: [] });
  if (s.distinct) out.push({ ...s, distinct: false });
  const selected = new Set(s.items.filter((i) => !i.aggregate).map((i) => i.sql));
  for (const key of s.groupBy) {
    if (!selected.has(key)) out.push({ ...s, groupBy: s.groupBy.filter((k) => k !== key), order: s.order && { ...s.order, lead: s.order.lead.filter((k) => k !== key) } });
  }
  if (s.groupBy.length > 0 && !s.items.some((i) => i.aggregate) && s.having.length === 0) out.push({ ...s, groupBy: [] });
  if (s.items.length > 1) {
    // Dropping a selected group key leaves it grouped but unselected: still deterministic.
    s.items.forEach((item, i) => {
      out.push({ ...s, items: s.items.filter((_, j) => j !== i), order: s.order && { ...s.order, lead: s.order.lead.filter((k) => k !== item.sql && !/^\d+$/.test(k)) } });
    });
  }
  for (let i = 0; i < s.where.length; i++) {
    out.push({ ...s, where: s.where.filter((_, j) => j !== i) });
    for (const simpler of predicateCandidates(s.where[i])) out.push({ ...s, where: s.where.map((p, j) => (j === i ? simpler : p)) });
  }
  for (let i = 0; i < s.having.length; i++) {
    for (const simpler of predicateCandidates(s.having[i])) out.push({ ...s, having: s.having.map((p, j) => (j === i ? simpler : p)) });
  }
  s.joins.forEach((join, i) => {
    const replace = (j: JoinClause) => ({ ...s, joins: s.joins.map((x, k) => (k === i ? j : x)) });
    if (join.type === 'LEFT JOIN') out.push(replace({ ...join, type: 'JOIN' }));
    for (const on of predicateCandidates(join.on)) out.push(replace({ ...join, on }));
  });
  if (s.from.kind === 'derived') {
    const from = s.from;
    for (const inner of shrinkCandidates(from.query)) {
      // The outer query reads the derived table's columns by position: keep its select list.
      if (inner.kind === 'select' && from.query.kind === 'select' && inner.select.items !== from.query.select.items) continue;
      out.push({ ...s, from: { ...from, query: inner } });
    }
  }
  return out;
}

/** A predicate's parts: AND/OR → either side, NOT / IS NULL → its argument. */
function predicateCandidates(p: Predicate): Predicate[] {
  switch (p.op) {
    case 'leaf':
      return [];
    case 'and':
    case 'or':
      return [p.left, p.right];
    case 'not':
    case 'is-null':
      return [p.arg];
  }
}
