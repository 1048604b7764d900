/**
 * Shard SQL is a template: verbatim text with placeholders that are rendered from bind values
 * with MySQL escaping. Rendering never re-parses SQL, so it costs one string join per query.
 *
 * Escaping follows mysql_real_escape_string (and Vitess's sqltypes encoding): the shard sessions
 * must not run with NO_BACKSLASH_ESCAPES, which shardgate never sets.
 */
import { ExactNumber, type BindValue, type BindVars, type QueryTemplate, type SqlValue, type TemplatePart } from './plan-types.js';
import { tokenize } from './lexer.js';
import { planFailure } from './errors.js';

const HEX = '0123456789ABCDEF';
const TWO_53 = 1n << 53n;
const MINUS_TWO_53 = -(1n << 53n);

/** Characters quoteString must escape; most strings have none, and a native test is cheap. */
const NEEDS_ESCAPE = /[\0\n\r\x1a"'\\]/;

/** Escapes a character string into a single-quoted MySQL literal. */
export function quoteString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return "'" + s + "'";
  let out = "'";
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    switch (c) {
      case 0:
        rep = '\\0';
        break;
      case 10:
        rep = '\\n';
        break;
      case 13:
        rep = '\\r';
        break;
      case 26:
        rep = '\\Z';
        break;
      case 34:
        rep = '\\"';
        break;
      case 39:
        rep = "\\'";
        break;
      case 92:
        rep = '\\\\';
        break;
      default:
        continue;
    }
    out += s.slice(last, i) + rep;
    last = i + 1;
  }
  return out + s.slice(last) + "'";
}

/**
 * A JS number is a DOUBLE (a prepared statement's DOUBLE parameter, as mysql2 sends every JS
 * number): it is sent in exponent form, which MariaDB reads as a DOUBLE. Written `16.58`, it was
 * an exact DECIMAL on the shard: `total + ?` then rounded into a DECIMAL(12,2) column differently
 * from MariaDB's DOUBLE sum (12.345 is 12.3449999… as a DOUBLE) and without its truncation notes.
 */
export function doubleLiteral(v: number): string {
  const s = String(v);
  return s.includes('e') ? s : `${s}e0`;
}

/** Encodes one value as a MySQL literal: `NULL`, `42`, `1.50`, `'it\'s'`, `X'00FF'`. */
export function encodeSqlValue(v: SqlValue): string {
  if (v === null) return 'NULL';
  switch (typeof v) {
    case 'bigint':
      // Number-to-string is several times faster than BigInt#toString and exact below 2^53.
      return v < TWO_53 && v > MINUS_TWO_53 ? String(Number(v)) : v.toString();
    case 'string':
      return quoteString(v);
    case 'number':
      if (!Number.isFinite(v)) throw planFailure(`cannot send the non-finite number ${v} to MySQL`);
      return doubleLiteral(v);
    default:
      break;
  }
  if (v instanceof Uint8Array) {
    let out = "X'";
    for (let i = 0; i < v.length; i++) out += HEX[v[i]! >> 4]! + HEX[v[i]! & 15]!;
    return out + "'";
  }
  if (v instanceof ExactNumber) return v.text;
  throw planFailure(`cannot encode value of type ${typeof v} as SQL`);
}

/**
 * Renders a list value as `(a, b, c)`. An empty list (a pulled-out subquery that returned no
 * rows) renders as `(NULL)`, which matches nothing, keeping the SQL valid; plans guard such
 * lists with the subquery's has-values bind var.
 */
export function encodeList(values: readonly SqlValue[]): string {
  if (values.length === 0) return '(NULL)';
  let out = '(';
  for (let i = 0; i < values.length; i++) out += (i > 0 ? ', ' : '') + encodeSqlValue(values[i]!);
  return out + ')';
}

function isList(v: BindValue | undefined): v is readonly SqlValue[] {
  return Array.isArray(v);
}

/**
 * Renders a template with bind values. A missing bind var is an error (1105) naming it, never
 * a silent NULL.
 */
export function renderQuery(t: QueryTemplate, bindVars: BindVars): string {
  const parts = t.parts;
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (typeof p === 'string') {
      out += p;
    } else if ('bind' in p) {
      const v = bindVars[p.bind];
      if (v === undefined) throw planFailure(`missing bind variable: ${p.bind}`);
      out += isList(v) ? encodeList(v as readonly SqlValue[]) : encodeSqlValue(v as SqlValue);
    } else {
      const v = bindVars[p.list];
      if (v === undefined) throw planFailure(`missing bind variable: ${p.list}`);
      out += isList(v) ? encodeList(v as readonly SqlValue[]) : '(' + encodeSqlValue(v as SqlValue) + ')';
    }
  }
  return out;
}

/**
 * Renders one INSERT row template. Its `$n` binds are positions in `row` (see
 * InsertPrimitive.rowTemplate), looked up by index so that no per-row bind-var object is built;
 * any other bind comes from `bindVars`.
 */
export function renderRow(t: QueryTemplate, row: readonly SqlValue[], bindVars: BindVars): string {
  const parts = t.parts;
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (typeof p === 'string') {
      out += p;
    } else if ('bind' in p && p.bind.charCodeAt(0) === 36 /* $ */) {
      const v = row[rowIndex(p.bind)];
      if (v === undefined) throw planFailure(`missing row value: ${p.bind}`);
      out += encodeSqlValue(v);
    } else {
      out += renderQuery({ parts: [p] }, bindVars);
    }
  }
  return out;
}

/** The position named by a row bind `$n` (no substring for the common single digit). */
function rowIndex(bind: string): number {
  return bind.length === 2 ? bind.charCodeAt(1) - 48 : +bind.slice(1);
}

/** Builds a template from SQL text whose `:name`/`::name` tokens are bind placeholders. */
export function templateFromSql(sql: string): QueryTemplate {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const tok of tokenize(sql)) {
    if (tok.kind === 'bind' || tok.kind === 'listBind') {
      if (tok.start > last) parts.push(sql.slice(last, tok.start));
      parts.push(tok.kind === 'bind' ? { bind: tok.text.slice(1) } : { list: tok.text.slice(2) });
      last = tok.end;
    }
  }
  if (last < sql.length) parts.push(sql.slice(last));
  return { parts: mergeStrings(parts) };
}

/** Joins adjacent string parts (templates stay short, rendering stays one pass). */
export function mergeStrings(parts: readonly TemplatePart[]): TemplatePart[] {
  const out: TemplatePart[] = [];
  for (const p of parts) {
    const lastIdx = out.length - 1;
    if (typeof p === 'string') {
      if (p.length === 0) continue;
      if (lastIdx >= 0 && typeof out[lastIdx] === 'string') out[lastIdx] = (out[lastIdx] as string) + p;
      else out.push(p);
    } else {
      out.push(p);
    }
  }
  return out;
}

/** The template's text with placeholders shown as `:name` / `::name` (for EXPLAIN output). */
export function templateText(t: QueryTemplate): string {
  let out = '';
  for (const p of t.parts) {
    if (typeof p === 'string') out += p;
    else if ('bind' in p) out += ':' + p.bind;
    else out += '::' + p.list;
  }
  return out;
}
