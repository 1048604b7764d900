/**
 * Splits a multi-statement string (`select 1; select 2`) at top-level semicolons. Quotes,
 * backticks and comments are skipped so that a `;` inside them never splits. Used for
 * CLIENT_MULTI_STATEMENTS queries (the `mariadb` CLI sends them) and for seed files.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(sql, i, c);
    } else if (c === '-' && sql[i + 1] === '-' && (i + 2 >= n || /\s/.test(sql[i + 2]))) {
      i = skipLine(sql, i);
    } else if (c === '#') {
      i = skipLine(sql, i);
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === ';') {
      push(out, sql.slice(start, i));
      start = ++i;
    } else {
      i++;
    }
  }
  push(out, sql.slice(start));
  return out;
}

function push(out: string[], stmt: string): void {
  // A fragment that is only whitespace and comments is not a statement.
  const stripped = stmt.replace(/\/\*(?![!+])[\s\S]*?\*\/|--\s[^\n]*|#[^\n]*/g, '').trim();
  if (stripped !== '') out.push(stmt.trim());
}

function skipQuoted(sql: string, i: number, quote: string): number {
  i++;
  while (i < sql.length) {
    const c = sql[i];
    if (c === '\\' && quote !== '`') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return i;
}

function skipLine(sql: string, i: number): number {
  const end = sql.indexOf('\n', i);
  return end < 0 ? sql.length : end + 1;
}
