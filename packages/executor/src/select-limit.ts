/**
 * sql_select_limit: the most rows MariaDB returns from a SELECT that has no LIMIT of its own
 * (`SET sql_select_limit = 1000`, which the `mariadb` client's --safe-updates sets). The gateway
 * applies it where the client's rows leave the executor, so that every plan shape (scatter, merge,
 * join) is cut at the same place MariaDB cuts it: after the statement's own ORDER BY.
 */
import { tokenize } from '@shardgate/planner';
import type { FieldInfo, ResultSink } from './types.js';

/**
 * Whether `sql` is a SELECT that sql_select_limit applies to: it starts with SELECT, WITH or a
 * parenthesis and has no LIMIT at the top level (a LIMIT inside a subquery or a parenthesized
 * UNION part limits only that part; the statement's own LIMIT takes precedence).
 */
export function selectLimitApplies(sql: string): boolean {
  let tokens;
  try {
    tokens = tokenize(sql);
  } catch {
    return false; // the planner reports the syntax error
  }
  const words = tokens.filter((t) => t.kind !== 'directive' && t.kind !== 'verbatim');
  const first = words[0]?.text.toLowerCase();
  if (first !== 'select' && first !== 'with' && first !== '(') return false;
  let depth = 0;
  for (const t of words) {
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && t.kind === 'ident' && t.text.toLowerCase() === 'limit') return false;
  }
  return true;
}

/**
 * Passes the first `limit` rows on and drops the rest (they are still read from the shards, as
 * the executor streams them; the client sees what MariaDB would send).
 */
export class SelectLimitSink implements ResultSink {
  private left: bigint;
  readonly rawRow?: ResultSink['rawRow'];
  constructor(
    private readonly inner: ResultSink,
    limit: bigint,
  ) {
    this.left = limit;
    if (inner.rawRow !== undefined) {
      const raw = inner.rawRow.bind(inner);
      this.rawRow = (source, start, end, values) => (this.take() ? raw(source, start, end, values) : true);
    }
  }
  private take(): boolean {
    if (this.left <= 0n) return false;
    this.left--;
    return true;
  }
  get signal(): AbortSignal {
    return this.inner.signal;
  }
  columns(defs: readonly FieldInfo[]): void {
    this.inner.columns(defs);
  }
  row(values: readonly (Uint8Array | string | null)[]): boolean {
    return this.take() ? this.inner.row(values) : true;
  }
  drain(): Promise<void> {
    return this.inner.drain();
  }
  end(info?: { warnings?: number }): void {
    this.inner.end(info);
  }
  ok(info?: { affectedRows?: number | bigint; lastInsertId?: number | bigint; warnings?: number; info?: string }): void {
    this.inner.ok(info);
  }
}
