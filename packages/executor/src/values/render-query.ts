/**
 * Renders a plan's QueryTemplate with this execution's bind vars into shard SQL. Placeholders are
 * replaced by escaped literals; template text is emitted verbatim (never re-parsed).
 */
import type { BindVars, QueryTemplate, SqlValue } from '@shardgate/planner';
import { ExecutorError, ER_UNKNOWN_ERROR } from '../errors.js';
import { literalOf } from './cell-codec.js';

export function renderTemplate(template: QueryTemplate, bindVars: BindVars): string {
  let sql = '';
  for (const part of template.parts) {
    if (typeof part === 'string') {
      sql += part;
    } else if ('bind' in part) {
      const v = bindVars[part.bind];
      if (v === undefined) throw missingBind(part.bind);
      if (Array.isArray(v)) sql += `(${listLiterals(v)})`;
      else sql += literalOf(v as SqlValue);
    } else {
      const v = bindVars[part.list];
      if (v === undefined) throw missingBind(part.list);
      sql += `(${Array.isArray(v) ? listLiterals(v) : literalOf(v as SqlValue)})`;
    }
  }
  return sql;
}

/**
 * Renders one INSERT row template: `$n` binds are positions in `row` (InsertPrimitive.rowTemplate),
 * read by index so that no per-row bind-var object is built; other binds come from `bindVars`.
 */
export function renderRowTemplate(template: QueryTemplate, row: readonly SqlValue[], bindVars: BindVars): string {
  let sql = '';
  for (const part of template.parts) {
    if (typeof part === 'string') {
      sql += part;
    } else if ('bind' in part && part.bind.charCodeAt(0) === 36 /* $ */) {
      const v = row[part.bind.length === 2 ? part.bind.charCodeAt(1) - 48 : +part.bind.slice(1)];
      if (v === undefined) throw missingBind(part.bind);
      sql += literalOf(v);
    } else {
      sql += renderTemplate({ parts: [part] }, bindVars);
    }
  }
  return sql;
}

function listLiterals(values: readonly SqlValue[]): string {
  // An empty IN list is not valid SQL; (NULL) matches nothing, which is what an empty list means.
  return values.length === 0 ? 'NULL' : values.map(literalOf).join(', ');
}

function missingBind(name: string): ExecutorError {
  return new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `missing bind var ${name} when rendering shard query`);
}
