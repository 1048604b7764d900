/**
 * Renders a plan's QueryTemplate with this execution's bind vars into shard SQL. Placeholders are
 * replaced by escaped literals; template text is emitted verbatim (never re-parsed).
 */
import type { BindVars, QueryTemplate, SqlValue } from '@shardgate/planner';
import { ExecutorError, ER_UNKNOWN_ERROR } from '../errors.js';
import { literalOf } from './cell-codec.js';
import { VALUES_PER_SLICE, yieldToEventLoop } from '../event-loop-yield.js';

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

/**
 * renderTemplate, but a list bind longer than VALUES_PER_SLICE (a shard's part of a 100,000-value
 * IN list) is rendered in slices with a turn of the event loop between them, so that rendering
 * it never holds other clients' statements. Without such a list it renders synchronously and
 * returns the string itself (no promise on the hot path).
 */
export function renderTemplateInSlices(template: QueryTemplate, bindVars: BindVars): string | Promise<string> {
  let long = false;
  for (const part of template.parts) {
    if (typeof part === 'string') continue;
    const v = bindVars['bind' in part ? part.bind : part.list];
    if (Array.isArray(v) && v.length > VALUES_PER_SLICE) long = true;
  }
  return long ? renderSliced(template, bindVars) : renderTemplate(template, bindVars);
}

async function renderSliced(template: QueryTemplate, bindVars: BindVars): Promise<string> {
  let sql = '';
  for (const part of template.parts) {
    const v = typeof part === 'string' ? undefined : bindVars['bind' in part ? part.bind : part.list];
    if (!Array.isArray(v) || v.length <= VALUES_PER_SLICE) {
      sql += renderTemplate({ parts: [part] }, bindVars);
      continue;
    }
    const slices: string[] = [];
    for (let i = 0; i < v.length; i += VALUES_PER_SLICE) {
      if (i > 0) await yieldToEventLoop();
      slices.push((v as readonly SqlValue[]).slice(i, i + VALUES_PER_SLICE).map(literalOf).join(', '));
    }
    sql += `(${slices.join(', ')})`;
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
