/**
 * Converts a value the gateway computed or took from another column to the type of the field it
 * is sent under, as the server converts a value stored in a result column of that type: a
 * DECIMAL(…, 2) column shows 0 as 0.00, a DOUBLE shows 2.50 as 2.5, a DATETIME shows a date at
 * midnight. Values already of the field's shape pass through unchanged.
 */
import { ExactNumber, type SqlValue } from '@shardgate/planner';
import { ColumnType, valueClassOf } from './column-types.js';
import { formatDecimal, parseDecimal, rescale } from './decimal.js';
import type { FieldInfo } from '../types.js';

/** Decimals of 31 (NOT_FIXED_DEC) mean "as many as the value needs" for floats and temporals. */
const NOT_FIXED_DEC = 31;

export function castToField(v: SqlValue, field: Pick<FieldInfo, 'columnType' | 'characterSet' | 'decimals'>): SqlValue {
  if (v === null) return null;
  switch (valueClassOf(field.columnType, field.characterSet)) {
    case 'decimal': {
      if (field.decimals >= NOT_FIXED_DEC) return v;
      const d = typeof v === 'number' ? parseDecimal(v.toFixed(field.decimals)) : typeof v === 'bigint' ? { units: v, scale: 0 } : parseDecimal(v.toString());
      return d ? new ExactNumber(formatDecimal(rescale(d, field.decimals))) : v;
    }
    case 'integer': {
      if (typeof v === 'bigint' || field.columnType === ColumnType.YEAR) return v;
      const d = typeof v === 'number' ? null : parseDecimal(v.toString());
      return d ? rescale(d, 0).units : v;
    }
    case 'float': {
      if (v instanceof Uint8Array || typeof v === 'string') return v;
      const x = typeof v === 'number' ? v : Number(v.toString());
      // A FLOAT/DOUBLE column declared with fixed decimals (`double(10,2)`) prints them all.
      return field.decimals < NOT_FIXED_DEC && Number.isFinite(x) ? new ExactNumber(x.toFixed(field.decimals)) : x;
    }
    case 'temporal': {
      if (typeof v !== 'string') return v;
      const datetime = field.columnType === ColumnType.DATETIME || field.columnType === ColumnType.TIMESTAMP;
      const fsp = field.decimals > 0 && field.decimals <= 6 ? field.decimals : 0;
      if (datetime && /^\d{4}-\d\d-\d\d$/.test(v)) return `${v} 00:00:00${fsp > 0 ? `.${'0'.repeat(fsp)}` : ''}`;
      const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|-?\d+:\d\d:\d\d)(?:\.(\d+))?$/.exec(v);
      if (m && (m[2] ?? '').length < fsp) return `${m[1]}.${(m[2] ?? '').padEnd(fsp, '0')}`;
      return v;
    }
    default:
      return v;
  }
}
