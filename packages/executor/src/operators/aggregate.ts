/**
 * Aggregate: merges per-shard partial aggregates (count and sum pushed down) into the values one
 * MariaDB would compute. Scalar (one row, even over no input), Ordered (input sorted by the group
 * keys: streams a group out as soon as the key changes) and Hash (unordered input: buffers groups).
 *
 * Exactness: counts are bigints, integer/decimal sums are scaled bigints, AVG is the exact sum
 * divided by the exact count rounded half away from zero to scale + div_precision_increment, as
 * MariaDB does. Only FLOAT/DOUBLE inputs are computed as doubles, as MariaDB does too.
 */
import { markExactAvgField, withExactAvgDouble } from '../values/exact-avg-fields.js';
import type { AggregateParam, AggregatePrimitive, BindVars } from '@shardgate/planner';
import type { QueryContext } from '../query-context.js';
import { FieldsOnce, SerialQueue, trimFields, trimRow, type RowReceiver } from '../row-flow.js';
import type { Cell, FieldInfo, Row } from '../types.js';
import { formatDouble, textCell } from '../values/cell-codec.js';
import { cellText, compareCollationKeys, compareNullable, comparatorFor, equalityKey, isTextField, type CellComparator } from '../values/cell-compare.js';
import { ColumnType, ColumnFlag, valueClassOf } from '../values/column-types.js';
import { addDecimal, divideDecimal, divideDecimalUnrounded, formatDecimal, parseDecimal, type Decimal } from '../values/decimal.js';
import { compareStoredDoubles, storedDoubleKey, stringToDouble, temporalToDecimal } from '../values/numeric-conversion.js';
import { runPrimitive } from '../primitive-runner.js';
import { handOnInSlices, mapInSlices } from '../event-loop-yield.js';
import { renderTemplate } from '../values/render-query.js';
import { ExecutorError, ER_NOT_SUPPORTED_YET } from '../errors.js';

const OUTPUT_CHUNK_ROWS = 256;
/** MariaDB's default group_concat_max_len. */
const DEFAULT_GROUP_CONCAT_MAX_LEN = 1048576;

/** A running aggregate of one group. Each group owns its accumulators; nothing is shared. */
interface Accumulator {
  add(row: Row): void;
  result(): Cell;
}

type NumericKind = 'exact' | 'float';

function numericKind(field: FieldInfo | undefined): NumericKind {
  if (!field) return 'exact';
  const cls = valueClassOf(field.columnType, field.characterSet);
  return cls === 'float' || cls === 'text' || cls === 'binary' || cls === 'temporal' ? 'float' : 'exact';
}

class SumAccumulator implements Accumulator {
  private exact: Decimal | null = null;
  private float: number | null = null;
  constructor(
    private readonly column: number,
    private readonly kind: NumericKind,
    private readonly distinctKeys: { keyOf(row: Row): string | null } | null,
  ) {}
  private readonly seen = new Set<string>();
  add(row: Row): void {
    const cell = row[this.column];
    if (cell === null || cell === undefined) return;
    if (this.distinctKeys) {
      const k = this.distinctKeys.keyOf(row);
      if (k === null || this.seen.has(k)) return;
      this.seen.add(k);
    }
    const text = cellText(cell);
    if (this.kind === 'float') {
      this.float = (this.float ?? 0) + Number(text);
      return;
    }
    const d = parseDecimal(text);
    if (!d) {
      this.float = (this.float ?? 0) + Number(text);
      return;
    }
    this.exact = this.exact === null ? d : addDecimal(this.exact, d);
  }
  /** The exact sum (null when every input was NULL); float inputs yield null here. */
  exactSum(): Decimal | null {
    return this.float === null ? this.exact : null;
  }
  floatSum(): number | null {
    if (this.float === null) return this.exact === null ? null : Number(formatDecimal(this.exact));
    return this.float + (this.exact === null ? 0 : Number(formatDecimal(this.exact)));
  }
  result(): Cell {
    if (this.float !== null) return textCell(formatDouble(this.floatSum()!));
    return this.exact === null ? null : textCell(formatDecimal(this.exact));
  }
}

/**
 * SUM(DISTINCT x) and AVG(DISTINCT x) over the raw values of x (the shards group by x, so every
 * distinct value arrives, perhaps from several shards). MariaDB reads each value as the
 * aggregate's input type first and only then drops duplicates: strings as DOUBLE ('1', '01' and
 * '1e0' are one value), temporal values as the number their digits spell, integers and decimals
 * exactly. Doubles are added in the order MariaDB's tree of seen values holds them (see
 * compareStoredDoubles), so even the last digits agree.
 */
class DistinctSumAccumulator implements Accumulator {
  private exact: Decimal | null = null;
  private readonly exactSeen = new Set<string>();
  private readonly doubles = new Map<string, number>();
  private distinctCount = 0n;
  constructor(
    private readonly column: number,
    private readonly input: DistinctSumInput,
    private readonly exactKeys: { keyOf(row: Row): string | null },
  ) {}
  add(row: Row): void {
    const cell = row[this.column];
    if (cell === null || cell === undefined) return;
    const text = cellText(cell);
    if (this.input === 'float' || this.input === 'text') {
      const x = this.input === 'text' ? stringToDouble(text) : Number(text);
      const k = storedDoubleKey(x);
      if (this.doubles.has(k)) return;
      this.doubles.set(k, x);
      this.distinctCount++;
      return;
    }
    let d: Decimal | null;
    let k: string | null;
    if (this.input === 'temporal') {
      d = temporalToDecimal(text) ?? { units: 0n, scale: 0 };
      k = formatDecimal(d);
    } else {
      d = parseDecimal(text);
      k = this.exactKeys.keyOf(row);
    }
    if (d === null || k === null || this.exactSeen.has(k)) return;
    this.exactSeen.add(k);
    this.distinctCount++;
    this.exact = this.exact === null ? d : addDecimal(this.exact, d);
  }
  count(): bigint {
    return this.distinctCount;
  }
  exactSum(): Decimal | null {
    return this.input === 'float' || this.input === 'text' ? null : this.exact;
  }
  floatSum(): number | null {
    if (this.doubles.size === 0) return null;
    let sum = 0;
    for (const x of [...this.doubles.values()].sort(compareStoredDoubles)) sum += x;
    return sum;
  }
  result(): Cell {
    if (this.input === 'float' || this.input === 'text') {
      const s = this.floatSum();
      return s === null ? null : textCell(formatDouble(s));
    }
    return this.exact === null ? null : textCell(formatDecimal(this.exact));
  }
}

type DistinctSumInput = 'exact' | 'float' | 'text' | 'temporal';

function distinctSumInput(field: FieldInfo | undefined): DistinctSumInput {
  if (!field) return 'exact';
  const cls = valueClassOf(field.columnType, field.characterSet);
  return cls === 'float' ? 'float' : cls === 'text' || cls === 'binary' ? 'text' : cls === 'temporal' ? 'temporal' : 'exact';
}

/** AVG(DISTINCT x): the distinct sum divided by the number of distinct values, as AVG divides. */
class DistinctAvgAccumulator implements Accumulator {
  private readonly sum: DistinctSumAccumulator;
  constructor(
    column: number,
    input: DistinctSumInput,
    exactKeys: { keyOf(row: Row): string | null },
    private readonly scale: number,
    private readonly unroundedIncrement: number | undefined,
    /** Whether its cell carries the double MariaDB reads beside a DOUBLE (exact-avg-fields.ts). */
    private readonly withDouble: boolean,
  ) {
    this.sum = new DistinctSumAccumulator(column, input, exactKeys);
  }
  add(row: Row): void {
    this.sum.add(row);
  }
  result(): Cell {
    const n = this.sum.count();
    if (n === 0n) return null;
    const exact = this.sum.exactSum();
    if (exact !== null) {
      const count = { units: n, scale: 0 };
      const cell = textCell(formatDecimal(this.unroundedIncrement !== undefined ? divideDecimalUnrounded(exact, count, this.unroundedIncrement) : divideDecimal(exact, count, this.scale)));
      return this.withDouble ? withExactAvgDouble(cell, exact, n) : cell;
    }
    const s = this.sum.floatSum();
    return s === null ? null : textCell(formatDouble(s / Number(n)));
  }
}

class CountAccumulator implements Accumulator {
  private n = 0n;
  constructor(
    private readonly column: number,
    /** count(*) pushed down as count(*): add the shard counts; count_distinct: count keys. */
    private readonly mode: 'sum' | 'distinct',
    private readonly distinctKeys: { keyOf(row: Row): string | null } | null,
  ) {}
  private readonly seen = new Set<string>();
  add(row: Row): void {
    const cell = row[this.column];
    if (this.mode === 'distinct') {
      const k = this.distinctKeys!.keyOf(row);
      if (k === null || this.seen.has(k)) return;
      this.seen.add(k);
      this.n++;
      return;
    }
    if (cell === null || cell === undefined) return;
    this.n += BigInt(cellText(cell));
  }
  count(): bigint {
    return this.n;
  }
  result(): Cell {
    return textCell(this.n.toString());
  }
}

class MinMaxAccumulator implements Accumulator {
  private best: Row | null = null;
  constructor(
    private readonly column: number,
    private readonly weightColumn: number | undefined,
    private readonly cmp: CellComparator,
    private readonly sign: 1 | -1,
  ) {}
  add(row: Row): void {
    const cell = row[this.column];
    if (cell === null || cell === undefined) return;
    if (this.best === null) {
      this.best = row;
      return;
    }
    const key = this.weightColumn ?? this.column;
    if (compareNullable(row[key], this.best[key], this.cmp) * this.sign < 0) this.best = row;
  }
  result(): Cell {
    return this.best === null ? null : this.best[this.column];
  }
  /**
   * Writes the winning value's collation key into `row` too: a Sort or ORDER BY after the
   * aggregate (ORDER BY MAX(status)) compares that key, and the group's first row holds the key
   * of whatever value came first, not of the maximum.
   */
  carryKey(row: Cell[]): void {
    if (this.weightColumn !== undefined && this.best !== null) row[this.weightColumn] = this.best[this.weightColumn] ?? null;
  }
}

class AvgAccumulator implements Accumulator {
  private readonly sum: SumAccumulator;
  private readonly count: CountAccumulator;
  constructor(
    column: number,
    countColumn: number,
    private readonly kind: NumericKind,
    private readonly scale: number,
    /** Set for an unrounded avg (AggregateParam.unrounded): the division's precision increment. */
    private readonly unroundedIncrement: number | undefined,
    /** Whether its cell carries the double MariaDB reads beside a DOUBLE (exact-avg-fields.ts). */
    private readonly withDouble: boolean,
  ) {
    this.sum = new SumAccumulator(column, kind, null);
    this.count = new CountAccumulator(countColumn, 'sum', null);
  }
  add(row: Row): void {
    this.sum.add(row);
    this.count.add(row);
  }
  result(): Cell {
    const n = this.count.count();
    if (n === 0n) return null;
    const exact = this.sum.exactSum();
    if (this.kind === 'exact' && exact !== null) {
      const count = { units: n, scale: 0 };
      const cell = textCell(formatDecimal(this.unroundedIncrement !== undefined ? divideDecimalUnrounded(exact, count, this.unroundedIncrement) : divideDecimal(exact, count, this.scale)));
      return this.withDouble ? withExactAvgDouble(cell, exact, n) : cell;
    }
    const s = this.sum.floatSum();
    return s === null ? null : textCell(formatDouble(s / Number(n)));
  }
}

/** Identities of BIT_AND, BIT_OR and BIT_XOR over BIGINT UNSIGNED (MariaDB's answers for no rows). */
const BIT_IDENTITY = { bit_and: (1n << 64n) - 1n, bit_or: 0n, bit_xor: 0n } as const;

/** BIT_AND/BIT_OR/BIT_XOR of the shards' per-group results (each an unsigned 64-bit integer). */
class BitAccumulator implements Accumulator {
  private value: bigint;
  constructor(
    private readonly column: number,
    private readonly op: 'bit_and' | 'bit_or' | 'bit_xor',
  ) {
    this.value = BIT_IDENTITY[op];
  }
  add(row: Row): void {
    const cell = row[this.column];
    if (cell === null || cell === undefined) return;
    const v = BigInt(cellText(cell));
    this.value = this.op === 'bit_and' ? this.value & v : this.op === 'bit_or' ? this.value | v : this.value ^ v;
  }
  result(): Cell {
    return textCell(this.value.toString());
  }
}

class AnyValueAccumulator implements Accumulator {
  private value: Cell | undefined = undefined;
  constructor(private readonly column: number) {}
  add(row: Row): void {
    if (this.value === undefined) this.value = row[this.column] ?? null;
  }
  result(): Cell {
    return this.value ?? null;
  }
}

/** Character sets in which an ASCII separator is not its ASCII bytes (ucs2, utf16, utf16le, utf32). */
function isWideCharset(id: number): boolean {
  return id === 35 || id === 90 || (id >= 128 && id <= 183) || (id >= 54 && id <= 56) || id === 62 || id === 60 || id === 61 || (id >= 101 && id <= 124);
}

/**
 * GROUP_CONCAT from the shards' pieces (see GroupConcatParam): each piece is one shard's
 * GROUP_CONCAT of rows sharing their ORDER BY keys. Pieces are sorted by those keys (a stable
 * sort: ties keep arrival order, which MariaDB leaves undefined too), duplicates dropped under
 * DISTINCT, and joined with the separator. A result that reaches group_concat_max_len would need
 * MariaDB's cut and its warning, and a piece that long may have been cut by its shard: refused.
 */
class GroupConcatAccumulator implements Accumulator {
  private readonly pieces: Row[] = [];
  private readonly seen = new Set<string>();
  constructor(
    private readonly ctx: QueryContext,
    private readonly column: number,
    private readonly param: NonNullable<AggregateParam['groupConcat']>,
    private readonly fields: readonly FieldInfo[],
    private readonly keyComparators: readonly CellComparator[],
  ) {}
  add(row: Row): void {
    const cell = row[this.column];
    if (cell === null || cell === undefined) return;
    const dc = this.param.distinctColumns;
    if (dc) {
      const k = dc.map((c) => equalityKey(row[c] ?? null, this.fields[c])).join('\u0001');
      if (this.seen.has(k)) return;
      this.seen.add(k);
    }
    // Held until the group ends: counted when pieces are unbounded (one per joined row, or sorted).
    if (this.param.orderBy.length > 0 || this.param.rowPieces) this.ctx.holdRows(1);
    this.pieces.push(row);
  }
  result(): Cell {
    if (this.pieces.length === 0) return null;
    const keys = this.param.orderBy;
    const pieces = keys.length === 0 ? this.pieces : this.pieces.slice().sort((a, b) => {
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        // A number's or a date's collation key is NULL: the value then decides (as the shards sort).
        let c = k.weightStringColumn === undefined ? 0 : compareNullable(a[k.weightStringColumn] ?? null, b[k.weightStringColumn] ?? null, compareCollationKeys);
        if (c === 0 && (k.weightStringColumn === undefined || (a[k.weightStringColumn] ?? null) === null)) c = compareNullable(a[k.column] ?? null, b[k.column] ?? null, this.keyComparators[i]!);
        if (c !== 0) return k.desc ? -c : c;
      }
      return 0;
    });
    const maxLen = this.param.maxLenColumn === undefined ? (this.ctx.settings.groupConcatMaxLen ?? DEFAULT_GROUP_CONCAT_MAX_LEN) : Number(cellText(pieces[0]![this.param.maxLenColumn] ?? textCell('0')));
    const sep = Buffer.from(this.param.separator, 'utf8');
    const parts: Uint8Array[] = [];
    let total = 0;
    for (const row of pieces) {
      const piece = row[this.column]!;
      if (piece.length + 4 > maxLen) throw tooLongForGroupConcat(maxLen);
      if (parts.length > 0) {
        parts.push(sep);
        total += sep.length;
      }
      parts.push(piece);
      total += piece.length;
      if (total > maxLen) throw tooLongForGroupConcat(maxLen);
    }
    return Buffer.concat(parts);
  }
}

function tooLongForGroupConcat(maxLen: number): ExecutorError {
  return new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: a GROUP_CONCAT result across shards that reaches group_concat_max_len (${maxLen} bytes): raise group_concat_max_len`);
}

/**
 * sum/avg over raw row values (AggregateParam.rowValues) are exact for integers and decimals and
 * summed as MariaDB sums a DOUBLE; a FLOAT arrives as its short text (not the float MariaDB adds),
 * a string or a date converts by rules the gateway does not reproduce: refused.
 */
function refuseInexactRowSum(f: FieldInfo | undefined, name: string): void {
  const cls = f ? valueClassOf(f.columnType, f.characterSet) : 'binary';
  if (cls === 'integer' || cls === 'decimal' || (cls === 'float' && f!.columnType === ColumnType.DOUBLE)) return;
  throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: ${name} over a join across shards of the ${f?.columnType === ColumnType.FLOAT ? 'FLOAT' : cls} column '${f?.name ?? ''}' (the gateway sums integers, decimals and doubles only)`);
}

/**
 * SUM/AVG of a quotient (AggregateParam.divides) arriving as a DECIMAL: MariaDB adds the quotients
 * with the digits its division keeps (whole 9-digit words), more than a shard shows in a row or a
 * partial sum, so adding what arrives can differ in the last digits (sum(len / 3): 352.3333 on
 * one server, 352.3334 from 4 shards). A DOUBLE quotient shows every digit it has.
 */
function refuseDecimalQuotients(a: AggregateParam, f: FieldInfo | undefined, name: string): void {
  if (a.divides !== true || (f !== undefined && valueClassOf(f.columnType, f.characterSet) === 'float')) return;
  throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: ${name} of a DECIMAL division across shards (MariaDB adds up the quotients with more digits than each shard's value shows)`);
}

/**
 * The display length MariaDB gives AVG of an exact number without GROUP BY: the argument's
 * precision plus div_precision_increment (at most 65), a sign, and a point when there is a scale.
 * The argument's precision comes from what the shards send: its values (`rowValues`: a DECIMAL's
 * or an integer's length less its sign and point), or their SUM, whose precision MariaDB made the
 * argument's plus 22 (from 65 on, that sum no longer tells, and 65 is used). Grouped, MariaDB
 * sizes it from its temporary table instead: the sum's length plus the increment.
 */
function scalarAvgLength(base: FieldInfo, rowValues: boolean, increment: number, scale: number): number {
  const point = base.decimals > 0 ? 1 : 0;
  const digits = rowValues ? (base.columnLength || 0) - point - ((base.flags & ColumnFlag.UNSIGNED) !== 0 ? 0 : 1) : (base.columnLength || 0) - point - 1 - 22;
  return Math.min(Math.max(digits, 1) + increment, 65) + 1 + (scale > 0 ? 1 : 0);
}

/** The field of SUM over raw values: DECIMAL with the argument's scale, or DOUBLE. */
function sumOfRowsField(base: FieldInfo, name: string, f: FieldInfo | undefined): FieldInfo {
  refuseInexactRowSum(f, name);
  return numericKind(f) === 'float'
    ? fieldWith(base, { name, schema: '', table: '', orgTable: '', orgName: '', characterSet: 63, columnType: ColumnType.DOUBLE, decimals: 31, flags: ColumnFlag.BINARY })
    : fieldWith(base, { name, schema: '', table: '', orgTable: '', orgName: '', characterSet: 63, columnType: ColumnType.NEWDECIMAL, flags: ColumnFlag.BINARY });
}

/** Everything derived from the plan and the input's columns; immutable once built. */
interface AggregateShape {
  readonly outFields: readonly FieldInfo[];
  newAccumulators(): Accumulator[];
  groupKey(row: Row): string;
}

function distinctKeyOf(param: AggregateParam, fields: readonly FieldInfo[]) {
  const more = param.moreColumns;
  const keyAt = (row: Row, column: number, ws: number | undefined): string | null => {
    const cell = row[column];
    if (cell === null || cell === undefined) return null;
    return equalityKey(cell, fields[column], ws === undefined ? undefined : row[ws]);
  };
  if (more === undefined || more.length === 0) return { keyOf: (row: Row): string | null => keyAt(row, param.column, param.weightStringColumn) };
  return {
    // count(DISTINCT a, b): the tuple's keys, none NULL (MariaDB skips a tuple with a NULL).
    keyOf: (row: Row): string | null => {
      const first = keyAt(row, param.column, param.weightStringColumn);
      if (first === null) return null;
      const keys = [first];
      for (const m of more) {
        const k = keyAt(row, m.column, m.weightStringColumn);
        if (k === null) return null;
        keys.push(k);
      }
      return JSON.stringify(keys);
    },
  };
}

/**
 * Integer types MariaDB widens to BIGINT in MIN/MAX of an expression (AggregateParam.overExpression);
 * a YEAR expression (COALESCE(year_col)) too, while a YEAR column stays a YEAR.
 */
const NARROW_INTEGER_TYPES: ReadonlySet<number> = new Set([ColumnType.TINY, ColumnType.SHORT, ColumnType.INT24, ColumnType.LONG, ColumnType.YEAR]);

/**
 * `{ ...base, ...changes }`, built as one literal of the column definition's fields. The shards'
 * column definitions are frozen, and V8 copies a spread of a frozen object on its slow path: in a
 * 4-shard `SELECT SUM(k)` under callgrind, buildShape's spreads cost about 5,700 instructions per
 * statement.
 */
function fieldWith(base: FieldInfo, changes: Partial<FieldInfo>): FieldInfo {
  return {
    catalog: changes.catalog ?? base.catalog,
    schema: changes.schema ?? base.schema,
    table: changes.table ?? base.table,
    orgTable: changes.orgTable ?? base.orgTable,
    name: changes.name ?? base.name,
    orgName: changes.orgName ?? base.orgName,
    characterSet: changes.characterSet ?? base.characterSet,
    columnLength: changes.columnLength ?? base.columnLength,
    columnType: changes.columnType ?? base.columnType,
    flags: changes.flags ?? base.flags,
    decimals: changes.decimals ?? base.decimals,
  };
}

function buildShape(ctx: QueryContext, p: AggregatePrimitive, fields: readonly FieldInfo[], divPrecisionIncrement: number, bv: BindVars): AggregateShape {
  const outFields = fields.slice();
  p.columnNames?.forEach((name, i) => {
    if (name !== null && outFields[i]) outFields[i] = fieldWith(outFields[i]!, { name });
  });
  const makers: (() => Accumulator)[] = [];
  for (const a of p.aggregates) {
    const f = fields[a.column];
    // A name over literals is rendered with this execution's values (the plan is shared).
    const name = a.nameTemplate ? renderTemplate(a.nameTemplate, bv) : a.alias || f?.name || '';
    const base: FieldInfo = f ?? { catalog: 'def', schema: '', table: '', orgTable: '', name, orgName: '', characterSet: 63, columnLength: 21, columnType: ColumnType.LONGLONG, flags: 0, decimals: 0 };
    // MariaDB flags a COUNT BINARY only without GROUP BY (grouped, it comes from a temporary table).
    const countField = (): FieldInfo => fieldWith(base, { name, schema: '', table: '', orgTable: '', orgName: '', characterSet: 63, columnLength: 21, columnType: ColumnType.LONGLONG, flags: p.variant === 'Scalar' ? ColumnFlag.NOT_NULL | ColumnFlag.BINARY : ColumnFlag.NOT_NULL, decimals: 0 });
    if (a.opcode === 'sum' || a.opcode === 'avg' || a.opcode === 'sum_distinct' || a.opcode === 'avg_distinct') refuseDecimalQuotients(a, f, name);
    switch (a.opcode) {
      case 'count':
      case 'count_star':
      case 'sum_count':
        outFields[a.column] = countField();
        makers.push(() => new CountAccumulator(a.column, 'sum', null));
        break;
      case 'count_distinct':
        outFields[a.column] = countField();
        makers.push(() => new CountAccumulator(a.column, 'distinct', distinctKeyOf(a, fields)));
        break;
      case 'sum':
        if (a.rowValues) {
          outFields[a.column] = sumOfRowsField(base, name, f);
          makers.push(() => new SumAccumulator(a.column, numericKind(f), null));
          break;
        }
        // A shard that grouped (for a DISTINCT beside it) sums in a temporary table, which drops
        // the BINARY flag MariaDB's SUM without GROUP BY has.
        outFields[a.column] = p.variant === 'Scalar' ? fieldWith(base, { name, flags: base.flags | ColumnFlag.BINARY }) : fieldWith(base, { name });
        makers.push(() => new SumAccumulator(a.column, numericKind(f), null));
        break;
      case 'sum_distinct': {
        // The shard sends the raw values; MariaDB types sum(int) as DECIMAL, sum of strings as DOUBLE.
        const input = distinctSumInput(f);
        if (a.rowValues) refuseInexactRowSum(f, name);
        outFields[a.column] =
          input === 'float' || input === 'text'
            ? fieldWith(base, { name, schema: '', table: '', orgTable: '', orgName: '', characterSet: 63, columnType: ColumnType.DOUBLE, decimals: 31, flags: ColumnFlag.BINARY })
            : fieldWith(base, { name, schema: '', table: '', orgTable: '', orgName: '', characterSet: 63, columnType: ColumnType.NEWDECIMAL, flags: ColumnFlag.BINARY });
        makers.push(() => new DistinctSumAccumulator(a.column, input, distinctKeyOf(a, fields)));
        break;
      }
      case 'avg_distinct': {
        const input = distinctSumInput(f);
        const scale = Math.min((f?.decimals ?? 0) + divPrecisionIncrement, 38);
        outFields[a.column] =
          input === 'float' || input === 'text'
            ? fieldWith(base, { name, schema: '', table: '', orgTable: '', orgName: '', characterSet: 63, columnType: ColumnType.DOUBLE, decimals: 31, flags: ColumnFlag.BINARY })
            : fieldWith(base, { name, schema: '', table: '', orgTable: '', orgName: '', characterSet: 63, columnType: ColumnType.NEWDECIMAL, decimals: scale, columnLength: (base.columnLength || 0) + divPrecisionIncrement, flags: ColumnFlag.BINARY });
        const withDouble = input === 'exact' && p.variant === 'Scalar';
        if (withDouble) markExactAvgField(outFields[a.column]!);
        makers.push(() => new DistinctAvgAccumulator(a.column, input, distinctKeyOf(a, fields), scale, a.unrounded ? divPrecisionIncrement : undefined, withDouble));
        break;
      }
      case 'min':
      case 'max': {
        // MIN/MAX of an ENUM or SET without GROUP BY is a VARCHAR in MariaDB (when the shards send
        // the column itself); with GROUP BY (through a temporary table) it stays the ENUM, and its
        // flag keeps an ORDER BY over it refused (MariaDB orders it by member index).
        const enumLike = p.variant === 'Scalar' && (base.flags & (ColumnFlag.ENUM | ColumnFlag.SET)) !== 0;
        const widened = a.overExpression === true && NARROW_INTEGER_TYPES.has(base.columnType);
        outFields[a.column] = enumLike
          ? fieldWith(base, { name, columnType: ColumnType.VAR_STRING, flags: base.flags & ~(ColumnFlag.ENUM | ColumnFlag.SET) })
          : widened
            ? fieldWith(base, { name, columnType: ColumnType.LONGLONG })
            : fieldWith(base, { name });
        const useWeight = a.weightStringColumn !== undefined && isTextField(f);
        const cmp = useWeight ? compareCollationKeys : comparatorFor(f);
        const sign = a.opcode === 'min' ? 1 : -1;
        makers.push(() => new MinMaxAccumulator(a.column, useWeight ? a.weightStringColumn : undefined, cmp, sign));
        break;
      }
      case 'avg': {
        if (a.rowValues) refuseInexactRowSum(f, name);
        const kind = numericKind(f);
        const scale = Math.min((f?.decimals ?? 0) + divPrecisionIncrement, 38);
        outFields[a.column] =
          kind === 'float'
            ? fieldWith(base, { name, schema: '', table: '', orgTable: '', orgName: '', columnType: ColumnType.DOUBLE, decimals: 31 })
            : fieldWith(base, { name, schema: '', table: '', orgTable: '', orgName: '', characterSet: 63, columnType: ColumnType.NEWDECIMAL, decimals: scale, columnLength: p.variant === 'Scalar' ? scalarAvgLength(base, a.rowValues === true, divPrecisionIncrement, scale) : (base.columnLength || 0) + divPrecisionIncrement, flags: ColumnFlag.BINARY });
        // Beside a DOUBLE, MariaDB reads a scalar AVG as sum / count in double; a grouped one as
        // the decimal its temporary table holds, which the unrounded value already is.
        const withDouble = kind !== 'float' && p.variant === 'Scalar';
        if (withDouble) markExactAvgField(outFields[a.column]!);
        makers.push(() => new AvgAccumulator(a.column, a.countColumn ?? a.column, kind, scale, a.unrounded ? divPrecisionIncrement : undefined, withDouble));
        break;
      }
      case 'any_value':
        makers.push(() => new AnyValueAccumulator(a.column));
        break;
      case 'bit_and':
      case 'bit_or':
      case 'bit_xor': {
        const op = a.opcode;
        outFields[a.column] = fieldWith(base, { name });
        makers.push(() => new BitAccumulator(a.column, op));
        break;
      }
      case 'group_concat': {
        const gc = a.groupConcat!;
        if (f && isWideCharset(f.characterSet)) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: GROUP_CONCAT across shards in a ${f.characterSet} result character set`);
        // A shard that grouped through a temporary table reports its GROUP_CONCAT as a BLOB-flagged
        // MEDIUMTEXT; MariaDB's own GROUP_CONCAT has no BLOB flag (a UNION sizes it by that: see
        // unionBlobType).
        outFields[a.column] = fieldWith(base, { name, flags: base.flags & ~ColumnFlag.BLOB });
        if (gc.rowPieces) {
          // MariaDB's GROUP_CONCAT is a VARCHAR up to 512 characters of group_concat_max_len, a BLOB past that.
          const maxLen = ctx.settings.groupConcatMaxLen ?? DEFAULT_GROUP_CONCAT_MAX_LEN;
          outFields[a.column] = fieldWith(base, { name, schema: '', table: '', orgTable: '', orgName: '', columnType: maxLen > 512 ? ColumnType.BLOB : ColumnType.VAR_STRING, columnLength: Math.min(maxLen * 4, 0xffffffff), decimals: 0, flags: base.flags & ~(ColumnFlag.BLOB | ColumnFlag.NOT_NULL) });
        }
        const cmps = gc.orderBy.map((k) => comparatorFor(fields[k.column]));
        for (const c of gc.distinctColumns ?? []) {
          // Which of several collation-equal strings MariaDB keeps is not known here.
          if (fields[c] && valueClassOf(fields[c].columnType, fields[c].characterSet) === 'text') throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: GROUP_CONCAT(DISTINCT …) across shards over the text column '${fields[c].name}'`);
        }
        makers.push(() => new GroupConcatAccumulator(ctx, a.column, gc, fields, cmps));
        break;
      }
    }
  }
  const keyParts = p.groupBy.map((g) => ({ column: g.column, ws: g.weightStringColumn, field: fields[g.column] }));
  return {
    outFields,
    newAccumulators: () => makers.map((m) => m()),
    groupKey: (row) => {
      let k = '';
      for (const g of keyParts) k += equalityKey(row[g.column] ?? null, g.field, g.ws === undefined ? undefined : row[g.ws]) + '\u0001';
      return k;
    },
  };
}

/** One group: its first row (for the group-by and other pass-through columns) and accumulators. */
interface Group {
  readonly first: Row;
  readonly accumulators: Accumulator[];
}

function finishGroup(p: AggregatePrimitive, g: Group): Row {
  const row = g.first.slice();
  p.aggregates.forEach((a, i) => {
    const acc = g.accumulators[i];
    row[a.column] = acc.result();
    if (acc instanceof MinMaxAccumulator) acc.carryKey(row);
  });
  return trimRow(row, p.resultColumns);
}

export async function runAggregate(ctx: QueryContext, p: AggregatePrimitive, bv: BindVars, out: RowReceiver): Promise<void> {
  // Per-query state shared by the input's callbacks. Concurrency rule: `shape` is set once by the
  // input's single fields() call, before any rows; `groups`/`current` are read and updated only
  // inside the synchronous part of a rows() callback (no await between lookup and update), and
  // finished groups leave through `emit`, a SerialQueue, so their order is the order they closed.
  let shape: AggregateShape | null = null;
  let inFields: readonly FieldInfo[] = [];
  const groups = new Map<string, Group>();
  let current: { key: string; group: Group } | null = null;
  const emit = new SerialQueue();
  const fieldsOnce = new FieldsOnce((f) => out.fields(trimFields(f, p.resultColumns)));
  const ensureShape = () => (shape ??= buildShape(ctx, p, inFields, ctx.settings.divPrecisionIncrement, bv));

  await runPrimitive(ctx, p.input, bv, {
    fields: (f) => {
      inFields = f;
      fieldsOnce.fields(ensureShape().outFields);
    },
    rows: (rows) => {
      const s = ensureShape();
      const finished: Row[] = [];
      for (const row of rows) {
        if (p.variant === 'Scalar') {
          current ??= { key: '', group: { first: row, accumulators: s.newAccumulators() } };
          for (const acc of current.group.accumulators) acc.add(row);
          continue;
        }
        const key = s.groupKey(row);
        if (p.variant === 'Ordered') {
          if (current === null || current.key !== key) {
            if (current !== null) finished.push(finishGroup(p, current.group));
            current = { key, group: { first: row, accumulators: s.newAccumulators() } };
          }
          for (const acc of current.group.accumulators) acc.add(row);
          continue;
        }
        let g = groups.get(key);
        if (!g) {
          g = { first: row, accumulators: s.newAccumulators() };
          groups.set(key, g);
          ctx.holdRows(1);
        }
        for (const acc of g.accumulators) acc.add(row);
      }
      if (finished.length === 0) return;
      return emit.run(() => out.rows(finished));
    },
  });
  const s = ensureShape();
  fieldsOnce.fields(s.outFields);
  let tail: Row[] = [];
  if (p.variant === 'Scalar') {
    if (current !== null) tail.push(finishGroup(p, (current as { group: Group }).group));
    else tail.push(finishGroup(p, { first: s.outFields.map(() => null), accumulators: s.newAccumulators() }));
  } else if (p.variant === 'Ordered') {
    if (current !== null) tail.push(finishGroup(p, (current as { group: Group }).group));
  } else {
    // Up to maxMemoryRows groups, finished and handed on with turns of the event loop for every
    // other client, stopping at the first turn after this statement was aborted.
    tail = await mapInSlices([...groups.values()], (g) => finishGroup(p, g), () => ctx.throwIfAborted());
  }
  await emit.run(() => handOnInSlices(tail, OUTPUT_CHUNK_ROWS, (chunk) => out.rows(chunk), () => ctx.throwIfAborted()));
}
