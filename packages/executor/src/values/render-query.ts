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
  for (const part of template.parts) sql += renderPart(part, bindVars);
  return sql;
}

function renderPart(part: QueryTemplate['parts'][number], bindVars: BindVars): string {
  if (typeof part === 'string') return part;
  if ('bind' in part) {
    const v = bindVars[part.bind];
    if (v === undefined) throw missingBind(part.bind);
    return Array.isArray(v) ? `(${listLiterals(v)})` : literalOf(v as SqlValue);
  }
  const v = bindVars[part.list];
  if (v === undefined) throw missingBind(part.list);
  return `(${Array.isArray(v) ? listLiterals(v) : literalOf(v as SqlValue)})`;
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
      sql += renderPart(part, bindVars);
    }
  }
  return sql;
}

/**
 * renderTemplate, but a long template is rendered in slices of about VALUES_PER_SLICE parts and
 * list values, with a turn of the event loop between them, so that rendering never holds other
 * clients' statements: a shard's part of a 100,000-value IN list, or the 100,000 parts of a
 * 50,000-term OR chain. A short template (one slice) renders synchronously and the string itself
 * comes back (no promise on the hot path).
 */
export function renderTemplateInSlices(template: QueryTemplate, bindVars: BindVars): string | Promise<string> {
  if (template.parts.length > VALUES_PER_SLICE) return renderSliced(template, bindVars);
  for (const part of template.parts) {
    if (typeof part === 'string') continue;
    const v = bindVars['bind' in part ? part.bind : part.list];
    if (Array.isArray(v) && v.length > VALUES_PER_SLICE) return renderSliced(template, bindVars);
  }
  return renderTemplate(template, bindVars);
}

async function renderSliced(template: QueryTemplate, bindVars: BindVars): Promise<string> {
  // Each slice's text is joined within the slice, so no step joins 100,000 pieces at once.
  const slices: string[] = [];
  let pieces: string[] = [];
  let inSlice = 0;
  const endSlice = async (): Promise<void> => {
    slices.push(pieces.join(''));
    pieces = [];
    inSlice = 0;
    await yieldToEventLoop();
  };
  for (const part of template.parts) {
    if (inSlice >= VALUES_PER_SLICE) await endSlice();
    const v = typeof part === 'string' ? undefined : bindVars['bind' in part ? part.bind : part.list];
    if (!Array.isArray(v) || v.length <= VALUES_PER_SLICE) {
      pieces.push(renderPart(part, bindVars));
      inSlice += Array.isArray(v) ? 1 + v.length : 1;
      continue;
    }
    // A long list: its values in slices of their own.
    pieces.push('(');
    for (let i = 0; i < v.length; i += VALUES_PER_SLICE) {
      if (i > 0 || inSlice > 0) await endSlice();
      pieces.push((i > 0 ? ', ' : '') + (v as readonly SqlValue[]).slice(i, i + VALUES_PER_SLICE).map(literalOf).join(', '));
      inSlice = VALUES_PER_SLICE;
    }
    pieces.push(')');
  }
  slices.push(pieces.join(''));
  return slices.join('');
}

function listLiterals(values: readonly SqlValue[]): string {
  // An empty IN list is not valid SQL; (NULL) matches nothing, which is what an empty list means.
  return values.length === 0 ? 'NULL' : values.map(literalOf).join(', ');
}

function missingBind(name: string): ExecutorError {
  return new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `missing bind var ${name} when rendering shard query`);
}
