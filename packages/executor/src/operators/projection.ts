/** Projection: expressions evaluated at the gateway, row by row (streams). */
import type { BindVars, ProjectionPrimitive } from '@shardgate/planner';
import type { QueryContext } from '../query-context.js';
import type { RowReceiver } from '../row-flow.js';
import type { FieldInfo } from '../types.js';
import { sqlValueToCell } from '../values/cell-codec.js';
import { castToField } from '../values/cast-to-field.js';
import { evalExpr } from '../values/eval-expr.js';
import { ColumnType, UTF8MB4_GENERAL_CI } from '../values/column-types.js';
import { runPrimitive } from '../primitive-runner.js';
import { expressionField } from '../values/expression-field.js';
import { renderTemplate } from '../values/render-query.js';
import { ExecutorError, ER_NOT_SUPPORTED_YET } from '../errors.js';

const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;

function computedField(name: string, keyspace: string): FieldInfo {
  return { catalog: 'def', schema: keyspace, table: '', orgTable: '', name, orgName: '', characterSet: UTF8MB4_GENERAL_CI, columnLength: 1024, columnType: ColumnType.VAR_STRING, flags: 0, decimals: 31 };
}

/** An INT expression narrower than an INT field (`YEAR(d)` has 4 characters, an INT field 11). */
function isNarrowInt(f: FieldInfo | undefined): boolean {
  return f !== undefined && f.columnType === ColumnType.LONG && f.columnLength <= 9;
}

/**
 * The field of a column a shard computed over a derived table's definitions, as MariaDB types it
 * over the fields of the derived table it materializes (ProjectionPrimitive.materializedIntegerWidth):
 * an INT result over a narrow INT column is a BIGINT there (`ABS(c)`, `c + 1`). Only the type is
 * derived, not the display length.
 */
function materializedField(f: FieldInfo, width: { readonly columns: readonly number[]; readonly widens: boolean } | null | undefined, inFields: readonly FieldInfo[], name: string): FieldInfo {
  if (!width || f.columnType !== ColumnType.LONG || !width.columns.some((k) => isNarrowInt(inFields[k]))) return f;
  if (!width.widens) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: the result type of '${name}', an expression over an integer column of a derived table evaluated at the gateway`);
  return { ...f, columnType: ColumnType.LONGLONG };
}

export async function runProjection(ctx: QueryContext, p: ProjectionPrimitive, bv: BindVars, out: RowReceiver): Promise<void> {
  // Set once by the input's single fields() call before any rows; read-only afterwards.
  let inFields: readonly FieldInfo[] = [];
  // The field each computed expression takes its type from (set with inFields); its values are
  // converted to that type, as the server would convert them (`coalesce(max(price), 0)` is 0.00).
  let typedAs: (FieldInfo | undefined)[] = [];
  let outNames: string[] = [];
  await runPrimitive(ctx, p.input, bv, {
    fields: (f) => {
      inFields = f;
      typedAs = p.expressions.map((e, i) => {
        const from = e.kind === 'column' ? undefined : p.fieldFrom?.[i];
        return from !== undefined && from !== null ? f[from] : undefined;
      });
      const outFields = p.expressions.map((e, i) => {
        const from = e.kind === 'column' ? e.index : p.fieldFrom?.[i];
        const template = p.nameTemplates?.[i];
        const name = (template ? renderTemplate(template, bv) : '') || p.columnNames[i] || (from !== undefined && from !== null ? f[from]?.name : undefined) || `col${i}`;
        if (from !== undefined && from !== null && f[from]) return { ...materializedField(f[from], p.materializedIntegerWidth?.[i], f, name), name };
        // An expression's column names no database, as on MariaDB.
        const schema = '';
        return p.typeFromExpression ? expressionField(e, f, bv, ctx.settings.divPrecisionIncrement, name, schema) : computedField(name, schema);
      });
      if (p.typeFromExpression) typedAs = p.expressions.map((e, i) => (e.kind === 'column' || typedAs[i] ? typedAs[i] : outFields[i]));
      outNames = outFields.map((f) => f.name);
      out.fields(outFields);
    },
    rows: (rows) =>
      out.rows(
        rows.map((row) => {
          const env = { row, fields: inFields, bindVars: bv, divPrecisionIncrement: ctx.settings.divPrecisionIncrement };
          return p.expressions.map((e, i) => {
            if (e.kind === 'column') return row[e.index] ?? null;
            const v = evalExpr(e, env);
            const f = typedAs[i];
            // An integer result past BIGINT: MariaDB fails the statement rather than wrap it.
            if (p.typeFromExpression && typeof v === 'bigint' && (v < BIGINT_MIN || v > BIGINT_MAX)) throw new ExecutorError(1690, '22003', `BIGINT value is out of range in '${outNames[i]}'`);
            return sqlValueToCell(f ? castToField(v, f) : v);
          });
        }),
      ),
  });
}
