/**
 * SQL-level prepared statements: `PREPARE s FROM 'text' | @var`, `EXECUTE s [USING v, …]`,
 * `EXECUTE IMMEDIATE 'text' | @var [USING …]`, `DEALLOCATE PREPARE s` / `DROP PREPARE s`.
 *
 * Planned from tokens as Session primitives: the statement text lives in the client's session
 * (never on a pooled shard connection, which other clients share), and EXECUTE plans that text
 * like any statement, its `?` bound to the USING values. These statements are not normalized
 * (their literals stay in the text), so a `@var` they read is named in the plan and the session
 * reads its value when the statement runs.
 */
import type { PreparedValue, SessionPrimitive } from './plan-types.js';
import { userVariableName } from './normalizer.js';
import { identName, kw, type Token } from './lexer.js';
import { literalValue } from './literal-value.js';
import { notSupported, syntaxError } from './errors.js';

/** The statement's name: MariaDB compares prepared statement names case-insensitively. */
function statementName(t: Token | undefined, sql: string): string {
  if (t === undefined || (t.kind !== 'ident' && t.kind !== 'qident')) throw syntaxError(sql, t?.start ?? sql.length);
  return identName(t).toLowerCase();
}

/** The text of a PREPARE / EXECUTE IMMEDIATE: a string literal or a user variable. */
function statementText(t: Token | undefined, sql: string): PreparedValue {
  if (t?.kind === 'string') return { kind: 'literal', value: literalValue(t) };
  if (t?.kind === 'uservar') return { kind: 'userVariable', name: userVariableName(t.text) };
  if (t !== undefined && t.kind !== 'punct') throw notSupported('PREPARE … FROM an expression other than a string or a user variable');
  throw syntaxError(sql, t?.start ?? sql.length);
}

/** `USING v, …`: user variables, literals, signed numbers and NULL. */
function usingValues(tokens: readonly Token[], from: number, sql: string): PreparedValue[] {
  const values: PreparedValue[] = [];
  let i = from;
  while (i < tokens.length) {
    const t = tokens[i]!;
    let value: PreparedValue;
    if (t.kind === 'uservar') value = { kind: 'userVariable', name: userVariableName(t.text) };
    else if (kw(t) === 'null') value = { kind: 'literal', value: null };
    else if (t.kind === 'string' || t.kind === 'number' || t.kind === 'hex' || t.kind === 'bit') value = { kind: 'literal', value: literalValue(t) };
    else if (t.text === '-' && tokens[i + 1]?.kind === 'number') value = { kind: 'literal', value: literalValue(tokens[++i]!, true) };
    else throw notSupported('EXECUTE … USING an expression other than a user variable or a literal');
    values.push(value);
    i++;
    if (i === tokens.length) break;
    const after = tokens[i]!;
    if (after.kind === 'punct' && after.text !== ',' && after.text !== '(' && after.text !== ')') throw notSupported('EXECUTE … USING an expression other than a user variable or a literal');
    if (after.text !== ',' || i + 1 === tokens.length) throw syntaxError(sql, after.start);
    i++;
  }
  if (values.length === 0) throw syntaxError(sql, sql.length);
  return values;
}

/** Plans PREPARE / EXECUTE / DEALLOCATE PREPARE / DROP PREPARE, or returns null for other statements. */
export function planPreparedStatement(tokens: readonly Token[], sql: string): SessionPrimitive | null {
  let end = tokens.length;
  while (end > 0 && tokens[end - 1]!.text === ';') end--;
  const toks = tokens.slice(0, end);
  const first = kw(toks[0]);
  if (first === 'prepare') {
    const name = statementName(toks[1], sql);
    if (kw(toks[2]) !== 'from') throw syntaxError(sql, toks[2]?.start ?? sql.length);
    const text = statementText(toks[3], sql);
    if (toks.length > 4) throw syntaxError(sql, toks[4]!.start);
    return { operator: 'Session', statement: { kind: 'prepare', name, text } };
  }
  if (first === 'execute') {
    if (kw(toks[1]) === 'immediate') {
      const text = statementText(toks[2], sql);
      const using = toks.length > 3 ? usingAfter(toks, 3, sql) : [];
      return { operator: 'Session', statement: { kind: 'execute', text, using } };
    }
    const name = statementName(toks[1], sql);
    const using = toks.length > 2 ? usingAfter(toks, 2, sql) : [];
    return { operator: 'Session', statement: { kind: 'execute', name, using } };
  }
  if ((first === 'deallocate' || first === 'drop') && kw(toks[1]) === 'prepare') {
    const name = statementName(toks[2], sql);
    if (toks.length > 3) throw syntaxError(sql, toks[3]!.start);
    return { operator: 'Session', statement: { kind: 'deallocate', name, verb: first === 'drop' ? 'DROP' : 'DEALLOCATE' } };
  }
  return null;
}

function usingAfter(toks: readonly Token[], at: number, sql: string): PreparedValue[] {
  if (kw(toks[at]) !== 'using') throw syntaxError(sql, toks[at]!.start);
  return usingValues(toks, at + 1, sql);
}
