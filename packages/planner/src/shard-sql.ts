/**
 * Builds shard SQL from the normalized tokens plus a list of edits (strip a keyspace qualifier,
 * rename a routed table, rewrite `database()`…). The user's own text is kept everywhere else, so
 * MySQL sees exactly what the client wrote, with literals as bind placeholders.
 */
import type { QueryTemplate } from './plan-types.js';
import type { Token } from './lexer.js';
import { templateFromSql } from './query-template.js';

export interface TokenEdit {
  /** First token replaced. */
  readonly from: number;
  /** One past the last token replaced (from === to inserts before `from`). */
  readonly to: number;
  readonly text: string;
}

/** Backtick-quotes an identifier when MySQL needs it (or always, with `force`). */
export function quoteIdent(name: string, force = false): string {
  if (!force && /^[A-Za-z_][A-Za-z0-9_$]*$/.test(name) && !RESERVED.has(name.toLowerCase())) return name;
  return '`' + name.replace(/`/g, '``') + '`';
}

const RESERVED = new Set([
  'user', 'select', 'from', 'where', 'order', 'group', 'by', 'limit', 'table', 'key', 'index', 'join',
  'left', 'right', 'inner', 'outer', 'on', 'and', 'or', 'not', 'in', 'is', 'null', 'as', 'desc', 'asc',
  'union', 'insert', 'update', 'delete', 'into', 'values', 'set', 'having', 'distinct', 'all', 'case',
  'when', 'then', 'else', 'end', 'like', 'between', 'exists', 'interval', 'status', 'rank', 'row',
]);

/** Renders tokens [start, end) with edits applied, keeping the original spacing. */
export function renderTokens(tokens: readonly Token[], start: number, end: number, edits: readonly TokenEdit[]): string {
  const sorted = edits.filter((e) => e.from >= start && e.to <= end).sort((a, b) => a.from - b.from || a.to - b.to);
  let out = '';
  let i = start;
  let k = 0;
  // A deleted token's leading space moves to the next token written.
  let pendingSpace = false;
  const put = (text: string, spaceBefore: boolean): void => {
    if (text.length === 0) {
      pendingSpace = pendingSpace || spaceBefore;
      return;
    }
    if (out.length > 0 && (spaceBefore || pendingSpace) && text.charCodeAt(0) !== 44) out += ' ';
    pendingSpace = false;
    out += text;
  };
  while (i < end || k < sorted.length) {
    if (k < sorted.length && sorted[k]!.from <= i) {
      const e = sorted[k++]!;
      if (e.from < i) continue; // overlapping edit: the first one wins
      put(e.text, i < tokens.length ? tokens[i]!.spaceBefore || e.from === e.to : true);
      if (e.to > i) i = e.to;
      continue;
    }
    if (i >= end) break;
    const t = tokens[i]!;
    put(t.text, t.spaceBefore);
    i++;
  }
  return out;
}

/** A template from tokens [start, end) with edits. */
export function templateFromTokens(tokens: readonly Token[], start: number, end: number, edits: readonly TokenEdit[]): QueryTemplate {
  return templateFromSql(renderTokens(tokens, start, end, edits));
}
