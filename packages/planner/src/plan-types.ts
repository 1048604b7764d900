/**
 * Plans are data. The planner produces them once per normalized query shape; the executor
 * interprets them for every execution with that execution's bind values.
 *
 * Concurrency rule: a Plan is immutable once built (it is shared by every session that hits the
 * plan cache). Nothing in the executor may write to a plan object; per-execution state lives in
 * the executor's own objects. Plans are frozen in development builds to enforce this.
 *
 * Field names follow Vitess's engine primitives where one exists, so that `toVitessJson()` is a
 * rename, not a translation.
 */

/** An exact numeric literal that is not an integer (`1.50`, `1e3`): the text is kept verbatim. */
export class ExactNumber {
  constructor(readonly text: string) {}
  /** A DOUBLE (a literal with an exponent, `1.5e0`), not a DECIMAL: MariaDB computes with it as one. */
  isDouble(): boolean {
    return /[eE]/.test(this.text);
  }
  toString(): string {
    return this.text;
  }
}

/**
 * A value bound to a placeholder.
 * - integers are `bigint` (never a JS number: BIGINT must stay exact end to end);
 * - `number` is a double (only from binary-protocol params of type DOUBLE/FLOAT);
 * - `string` is a character string; `Uint8Array` is a binary string (hex/bit literals, blobs);
 * - `ExactNumber` is a decimal/float literal kept as text.
 */
export type SqlValue = null | bigint | number | string | Uint8Array | ExactNumber;

/**
 * A bind value is a scalar, a list (for `IN ::list`), or a list of rows (the INSERT rows bind,
 * see InsertPrimitive.rowsBind).
 */
export type BindValue = SqlValue | readonly SqlValue[] | readonly (readonly SqlValue[])[];

/** Bind variables by name (`v1`, `v2`… from the normalizer; join vars from outer rows). */
export type BindVars = Record<string, BindValue>;

/**
 * A piece of shard SQL. Strings are emitted verbatim; placeholders are rendered from bind vars
 * with MySQL escaping (see query-template.ts), never by re-parsing.
 * - `{ bind }`: one value, rendered as a literal (`'it''s'`, `42`, `X'00ff'`, `NULL`).
 * - `{ list }`: a list value rendered as `(a, b, c)`.
 */
export type TemplatePart = string | { readonly bind: string } | { readonly list: string };

export interface QueryTemplate {
  readonly parts: readonly TemplatePart[];
}

/** How a Route reaches its shards (Vitess's routing opcodes). */
export type RouteVariant =
  | 'Unsharded'
  | 'EqualUnique'
  | 'Equal'
  | 'IN'
  | 'MultiEqual'
  | 'Scatter'
  | 'Reference'
  | 'DBA'
  | 'Next'
  | 'None'
  | 'ByDestination'
  | 'SubShard';

export interface KeyspaceRef {
  readonly name: string;
  readonly sharded: boolean;
}

/** An expression over bind vars evaluated at the gateway (vindex inputs, limits, sequence ids). */
export type ValueExpr =
  | { readonly kind: 'bind'; readonly name: string }
  | { readonly kind: 'literal'; readonly value: SqlValue }
  | { readonly kind: 'list'; readonly items: readonly ValueExpr[] }
  /** `IN ::name`: the bind var holds a list. */
  | { readonly kind: 'bindList'; readonly name: string };

/**
 * One ORDER BY key of a merge over shard streams. Indexes are into the shard result's columns; a
 * negative index counts from the end (-1 = last column), used when the visible width is unknown
 * (`select * … order by x` appends helper columns after the star).
 */
export interface OrderByKey {
  readonly column: number;
  /** Column holding WEIGHT_STRING(col) for collation-correct string comparison, if pushed. */
  readonly weightStringColumn?: number;
  readonly desc: boolean;
  /**
   * The key only keeps equal GROUP BY keys adjacent for the gateway's ordered aggregation; the
   * statement does not ORDER BY it, so any consistent order will do (an ENUM's text order too).
   */
  readonly grouping?: boolean;
  /**
   * No collation key could be pushed (`ORDER BY n` over `SELECT *`, whose column has no known
   * name; an expression over aggregates the gateway computes): the gateway compares the values
   * and refuses the query when the column turns out to be a character string.
   */
  readonly noCollationKey?: boolean;
}

/** Options that come from `/*vt+ ... *\/` directives and apply to one execution of a route. */
export interface RouteOptions {
  readonly queryTimeoutMs?: number;
  readonly scatterErrorsAsWarnings?: boolean;
}

export interface RoutePrimitive extends RouteOptions {
  readonly operator: 'Route';
  readonly variant: RouteVariant;
  readonly keyspace: KeyspaceRef;
  /** The SQL sent to every target shard. */
  readonly query: QueryTemplate;
  /** SQL that returns no rows but the right columns (`... where 1 != 1`), for variant None. */
  readonly fieldQuery?: QueryTemplate;
  readonly table?: string;
  /** Vindex name for EqualUnique, Equal, IN, MultiEqual, SubShard. */
  readonly vindex?: string;
  /**
   * Set when `vindex` is a lookup vindex: the executor first maps the values through the vindex's
   * backing table. 'planable' is what Vitess shows as a VindexLookup operator in EXPLAIN.
   */
  readonly lookup?: 'planable' | 'inline';
  /**
   * Vindex inputs. EqualUnique/Equal: one expression. IN/MultiEqual: one expression that
   * evaluates to a list.
   */
  readonly values?: readonly ValueExpr[];
  /**
   * IN only: the list bind var in `query` that the executor rebinds per shard with just the
   * values that map to that shard (Vitess's `::__vals`).
   */
  readonly inListBind?: string;
  /**
   * A pinned table (vschema `pinned`): the hex keyspace id every row lives at. The route is
   * EqualUnique with vindex `binary` and this keyspace id as its value.
   */
  readonly pinned?: string;
  /** ByDestination: explicit shard names (or key-range names such as `-80`). */
  readonly targetShards?: readonly string[];
  /** When set, shard streams are merged in this order instead of concatenated. */
  readonly orderBy?: readonly OrderByKey[];
  /** Number of leading columns the client sees; trailing ones are helper columns to drop. */
  readonly resultColumns?: number;
  /** Number of trailing helper columns to drop, when `resultColumns` cannot be known (`select *`). */
  readonly hiddenColumns?: number;
}

/** Which row value feeds the vindex of a column, per row. */
export interface InsertVindexColumn {
  readonly vindex: string;
  /** Index into the row's values (see InsertPrimitive.rows). */
  readonly valueIndex: number;
}

export interface InsertPrimitive extends RouteOptions {
  readonly operator: 'Insert';
  /** Reference: a reference table of a sharded keyspace; every row goes to every shard. */
  readonly variant: 'Sharded' | 'Unsharded' | 'Reference';
  readonly keyspace: KeyspaceRef;
  readonly table: string;
  /** `insert into t(a, b) values ` (or `replace into`, `insert ignore into`). */
  readonly prefix: string;
  /**
   * The VALUES rows. So that one plan serves every row count (Vitess #7304/#8804 were OOMs from a
   * plan per row count), a row is one template over positional binds `{ bind: '$0' }`,
   * `{ bind: '$1' }`…, and the rows' literal values come from `bindVars[rowsBind]`, a list of
   * rows, each a list of SqlValue. Non-literal expressions (`now()`) stay in the template text;
   * rows of different shapes are not collapsed (the normalizer keeps one template per shape and
   * the planner then sees them as distinct rows: `rowTemplates`).
   */
  readonly rowTemplate: QueryTemplate;
  /** When rows differ in shape: one template per row (then `rowTemplate` is unused). */
  readonly rowTemplates?: readonly QueryTemplate[];
  /** Bind var holding `SqlValue[][]`: the literal values of each row, in template order. */
  readonly rowsBind: string;
  /** ` on duplicate key update ...`, or empty. */
  readonly suffix: QueryTemplate;
  /** The primary vindex column(s) for sharded tables, one entry per column in vindex order. */
  readonly primaryVindex?: readonly InsertVindexColumn[];
  /**
   * Owned lookup vindexes to maintain (rows inserted into their backing tables). A multi-column
   * vindex has one entry per column, in the vindex's column order. `valueIndex` -1 means the value
   * is the generated auto-increment id.
   */
  readonly ownedVindexes?: readonly InsertVindexColumn[];
  /**
   * A sequence-backed auto-increment column. `valueIndex` is the row value of the column. Rows
   * whose value is NULL (or absent) get the next ids from `sequence` (a `keyspace.table` of type
   * sequence). When the statement did not name the column, the planner adds it to the column list
   * and to each row template as the last value (`valueIndex` = the row's value count), so the
   * executor appends the generated id to each row's values.
   */
  readonly autoIncrement?: { readonly column: string; readonly valueIndex: number; readonly sequence: string };
  /**
   * Vindex and auto-increment columns whose row value is an expression (`1 + 1`), not a literal:
   * the executor evaluates it per row and sends the shard the evaluated value, so the shard
   * stores what the gateway routed on. Computed before the sequence and the vindexes read the row.
   */
  readonly computedValues?: readonly InsertComputedValue[];
  /**
   * INSERT … SELECT into a sharded keyspace: the rows are the answer of `input` (the SELECT,
   * planned on its own and read whole before anything is written, as MariaDB reads it first),
   * each of `columns` values, in place of `bindVars[rowsBind]`; the rest is this Insert's, as for
   * VALUES rows of literals (`rowTemplate` is `($0, $1, …)`).
   */
  readonly source?: { readonly input: Primitive; readonly columns: number };
}

/** One column's value expression in INSERT rows (see InsertPrimitive.computedValues). */
export interface InsertComputedValue {
  readonly column: string;
  /**
   * The value, over the row's values as binds `$0`, `$1`…: one expression when every row has the
   * row template, else one per entry of `rowTemplates`.
   */
  readonly exprs: readonly EvalExpr[];
  /** Row value index the row template sends in place of the expression: the evaluated value. */
  readonly sendIndex: number;
  /**
   * Row value index the vindexes and the sequence read: the value as the column stores it (a
   * DECIMAL 2.5 rounds to 3 in an integer column). When the sequence fills it, sendIndex gets
   * the same id.
   */
  readonly routeIndex: number;
  /** The vschema declares the column an integer type (INT64, UINT32…), so rounding is known. */
  readonly integerColumn: boolean;
}

/** UPDATE / DELETE: a route plus what the executor must check or maintain. */
export interface DmlPrimitive extends RouteOptions {
  readonly operator: 'Update' | 'Delete';
  readonly route: RoutePrimitive;
  /** Owned lookup vindexes whose rows must be changed along with the table's rows. */
  readonly ownedVindexes?: readonly string[];
  /**
   * When `ownedVindexes` is set: `select <vindex columns> from <table> where … for update`, run on
   * the same route first, so the executor knows which lookup rows to change (Vitess's
   * OwnedVindexQuery). Columns: every column vindex's columns, in vschema order.
   */
  readonly ownedVindexQuery?: QueryTemplate;
  /**
   * With `ownedVindexQuery`: the names of its result columns, in order, so the executor can find
   * the primary vindex column(s) and each owned vindex's columns by name.
   */
  readonly ownedVindexColumns?: readonly string[];
  /**
   * UPDATE only: the new value of every owned lookup vindex column the statement assigns (Vitess's
   * ChangedVindexValues). Only literal and bind values are planned; anything else is refused.
   */
  readonly changedVindexValues?: readonly { readonly column: string; readonly value: ValueExpr }[];
  /** Scatter DML with LIMIT is refused at plan time; this is only for single-shard routes. */
  readonly limit?: ValueExpr;
}

/** Nested-loop join: for each left row, bind `joinVars` from it and run the right side. */
export interface JoinPrimitive {
  readonly operator: 'Join';
  readonly variant: 'Join' | 'LeftJoin';
  readonly left: Primitive;
  readonly right: Primitive;
  /** Output columns: negative n = left column (-n-1), positive n = right column (n-1). */
  readonly cols: readonly number[];
  /** Bind var name → left column index. */
  readonly joinVars: Readonly<Record<string, number>>;
  /**
   * LeftJoin whose right columns include expressions (`r.x is null`, `coalesce(r.email, 'none')`):
   * one row holding the right side's select list evaluated over a NULL-extended row, by a shard,
   * with the right side's types. An outer row without a match takes its right columns from it.
   */
  readonly nullRow?: Primitive;
  /**
   * The nullRow names join vars (a LEFT JOIN's WHERE term over both sides, evaluated by the right
   * shard): it is evaluated for each unmatched outer row, with that row's join vars.
   */
  readonly nullRowPerRow?: boolean;
  /**
   * Join vars bound into a right-side expression that computes a value (`u.a + ue.b` sent as
   * `:u_a + ue.b`), not only compared in a WHERE. A bound value is a literal on the shard: the
   * executor accepts only signed integers and decimals there, whose literal means the same as the
   * column (a double, date, unsigned or string literal would change the expression's type,
   * precision or collation), and refuses the query with 1235 otherwise.
   */
  readonly valueJoinVars?: readonly string[];
  /**
   * The inner side looked up for many outer rows at once, when the join's only dependence on the
   * outer row is one equality `inner.col = outer.col` (see KeyedLookup). The executor uses it when
   * the two columns' values compare exactly at the gateway, and `right` otherwise.
   */
  readonly keyedLookup?: KeyedLookup;
}

/**
 * `right` with the join equality `inner.col = :joinVar` turned into `inner.col IN ::keysBind`, for
 * a batch of distinct outer values at once (routed per value when `col` is a vindex). Its rows
 * open with two helper columns before `right`'s own: `col` itself and `col`'s equality key
 * (`concat(collation(col), ':', <collation key of col>)`, NULL for a number); the left route
 * selects the same key of the outer column at `leftKeyColumn`. The gateway matches inner rows to
 * outer rows on those keys (strings of one collation) or on the numbers' values.
 */
export interface KeyedLookup {
  readonly route: RoutePrimitive;
  readonly keysBind: string;
  readonly joinVar: string;
  readonly leftKeyColumn: number;
}

/** `x IN (subquery)` / `EXISTS`: for each outer row, ask the inner side whether it matches. */
export interface SemiJoinPrimitive {
  readonly operator: 'SemiJoin';
  readonly variant: 'Semi' | 'Anti';
  readonly outer: Primitive;
  readonly inner: Primitive;
  readonly joinVars: Readonly<Record<string, number>>;
  /** Outer columns the client sees. */
  readonly cols: readonly number[];
  /**
   * The outer select list has a `*`, so its width is known only from its fields: the outer's last
   * `helperColumns` columns are the subquery's outer values, `joinVars` count from the first of
   * them, and the client sees every column before them (`cols` is then empty).
   */
  readonly helperColumns?: number;
}

/** Runs `subquery` once, binds its result, then runs `outer`. */
export interface UncorrelatedSubqueryPrimitive {
  readonly operator: 'UncorrelatedSubquery';
  readonly variant: 'PulloutIn' | 'PulloutNotIn' | 'PulloutValue' | 'PulloutExists';
  readonly subquery: Primitive;
  readonly outer: Primitive;
  /** Bind var receiving the list / value. */
  readonly resultBind: string;
  /** Bind var receiving whether the subquery returned rows (for IN/NOT IN short-cuts). */
  readonly hasValuesBind: string;
  /**
   * PulloutValue inside a select-list expression: a NULL value (or no row) is refused at
   * execution. The value is bound as a typed literal (`CAST(2.50 AS DECIMAL(3,2))`), but a bare
   * NULL has no type, and the expression around it would take another one than MariaDB gives it
   * (`coalesce((select max(price) …), 1)` is a DECIMAL there even when the subquery is NULL).
   */
  readonly nullRefused?: boolean;
}

/**
 * `SELECT SQL_CALC_FOUND_ROWS … LIMIT`: the client gets `limitQuery`'s rows; then the session
 * keeps, for the next FOUND_ROWS(), how many rows the statement has without its LIMIT:
 * `countQuery`'s one value when `countIsScalar` (a count(*) over the same FROM/WHERE), else the
 * number of rows `countQuery` (the statement without ORDER BY and LIMIT) returns.
 */
export interface CalcFoundRowsPrimitive {
  readonly operator: 'SQLCalcFoundRows';
  readonly limitQuery: Primitive;
  readonly countQuery: Primitive;
  readonly countIsScalar: boolean;
}

export type AggregateOpcode =
  | 'count'
  | 'count_star'
  | 'count_distinct'
  | 'sum'
  | 'sum_distinct'
  | 'min'
  | 'max'
  | 'avg'
  /** avg(DISTINCT x): the shards group by x; the gateway averages the distinct values it sees */
  | 'avg_distinct'
  /** sum of per-shard counts */
  | 'sum_count'
  | 'any_value'
  /** BIT_AND/BIT_OR/BIT_XOR: the shards' per-group results (BIGINT UNSIGNED) combined by the same operation */
  | 'bit_and'
  | 'bit_or'
  | 'bit_xor'
  /** GROUP_CONCAT: the shards' per-group pieces, ordered and joined at the gateway (see GroupConcatParam) */
  | 'group_concat';

/**
 * How the gateway joins the GROUP_CONCAT pieces of one group. Each shard row carries, in the
 * aggregate's column, the shard's own GROUP_CONCAT of its rows with equal ORDER BY keys (and,
 * under DISTINCT, equal arguments): the shards also group by those, so pieces can be put in
 * the statement's order and duplicates dropped here.
 */
export interface GroupConcatParam {
  /** SEPARATOR's text (',' when not given). */
  readonly separator: string;
  /** The ORDER BY keys inside GROUP_CONCAT: columns (with collation keys for text) and direction. */
  readonly orderBy: readonly OrderByKey[];
  /** Under DISTINCT: the argument columns (numbers only) whose values identify a duplicate piece. */
  readonly distinctColumns?: readonly number[];
  /** Column holding the shard session's @@group_concat_max_len; without it (rowPieces), the session's value at the gateway. */
  readonly maxLenColumn?: number;
  /**
   * Each input row is one joined row (an aggregation over a join across shards), its piece the
   * text of its arguments (NULL when one is NULL, as GROUP_CONCAT skips such rows); the result
   * column is typed as MariaDB types GROUP_CONCAT, from the session's group_concat_max_len.
   */
  readonly rowPieces?: boolean;
}

export interface AggregateParam {
  readonly opcode: AggregateOpcode;
  /** Input column. For avg: the sum column; `countColumn` holds the pushed-down count. */
  readonly column: number;
  readonly countColumn?: number;
  readonly weightStringColumn?: number;
  /**
   * count(DISTINCT a, b, …): the columns (and collation keys) of b, … after `column`'s a; a
   * tuple with a NULL in it is not counted, as in MariaDB.
   */
  readonly moreColumns?: readonly { readonly column: number; readonly weightStringColumn?: number }[];
  readonly alias: string;
  /**
   * The output column's name when the expression's text holds literals, which the plan only
   * knows as bind vars (`count(:v1)`): rendered with the execution's values, so the client sees
   * the name one MySQL gives (`count(1)`). `alias` then holds the normalized text, for display.
   */
  readonly nameTemplate?: QueryTemplate;
  /**
   * avg of exact numbers, for use inside a gateway expression: the value at the precision MariaDB
   * keeps before it rounds for display (its division truncates to whole 9-digit words), so that
   * `avg(x) * 2` or `avg(x) / 3` round as on one server.
   */
  readonly unrounded?: boolean;
  /**
   * sum/avg over one raw value per input row (the rows of a join), not over shards' partial sums:
   * the result takes the type MariaDB gives SUM/AVG of that column (DECIMAL for integers), and
   * the executor refuses inputs whose sum it cannot reproduce exactly (FLOAT, strings, dates).
   */
  readonly rowValues?: boolean;
  /**
   * min/max over one raw value per input row whose argument MariaDB sees as an expression, not a
   * column (select-planner isExpressionArgument): an integer narrower than BIGINT comes out as a
   * BIGINT there (MIN(COALESCE(int_col)), MIN(YEAR(d))), where MIN(int_col) stays an INT.
   */
  readonly overExpression?: boolean;
  /**
   * sum/avg (DISTINCT or not) whose argument divides (select-planner holdsDivision): MariaDB adds
   * the quotients with more digits than a DECIMAL shows, so the executor refuses a DECIMAL input
   * (a DOUBLE quotient shows all its digits and is summed as MariaDB sums it).
   */
  readonly divides?: boolean;
  /** Set for opcode group_concat. */
  readonly groupConcat?: GroupConcatParam;
}

export interface GroupByKey {
  readonly column: number;
  readonly weightStringColumn?: number;
}

/**
 * Aggregation over an input already ordered by the group keys (Vitess's OrderedAggregate) or
 * over unordered input (hash aggregation) when `ordered` is false.
 */
export interface AggregatePrimitive {
  readonly operator: 'Aggregate';
  readonly variant: 'Scalar' | 'Ordered' | 'Hash';
  readonly input: Primitive;
  readonly aggregates: readonly AggregateParam[];
  readonly groupBy: readonly GroupByKey[];
  /** Columns the client sees (helper columns dropped). */
  readonly resultColumns?: number;
  /**
   * Per visible column, the alias the query gave it (null: the shard's name stands). MariaDB
   * 10.11 names every repeat of a derived table's CASE column in a grouped or DISTINCT query
   * after the last one, so a shard query that repeats a column for the gateway's own use (a
   * GROUP_CONCAT ORDER BY key) would rename the client's `t2.c1 AS c0` to `c1`.
   */
  readonly columnNames?: readonly (string | null)[];
}

export interface SortPrimitive {
  readonly operator: 'Sort';
  readonly input: Primitive;
  readonly orderBy: readonly OrderByKey[];
  /** As DistinctPrimitive's: the collations the sort keys' weight strings were made in. */
  readonly collationTagColumn?: number;
  readonly resultColumns?: number;
}

export interface LimitPrimitive {
  readonly operator: 'Limit';
  readonly input: Primitive;
  readonly count: ValueExpr;
  readonly offset?: ValueExpr;
}

export interface DistinctPrimitive {
  readonly operator: 'Distinct';
  readonly input: Primitive;
  /** Per column: the column holding its weight string, if any (collation-aware equality). */
  readonly weightStringColumns?: readonly (number | undefined)[];
  /**
   * A column listing, comma-separated per result column, the collation its weight string was made
   * in (a UNION's parts may differ): keys of different collations cannot be compared, so the
   * executor refuses them rather than guess.
   */
  readonly collationTagColumn?: number;
  readonly resultColumns?: number;
}

/** UNION ALL; UNION is Distinct over Concatenate. */
export interface ConcatenatePrimitive {
  readonly operator: 'Concatenate';
  readonly inputs: readonly Primitive[];
  /**
   * Per input, the columns it computes by a division or avg. MariaDB converts such a DECIMAL to
   * the UNION's type from its unrounded value (`3.475000000` as a string), which the gateway,
   * holding the rounded value, cannot reproduce: the executor refuses that conversion.
   */
  readonly divisionColumns?: readonly (readonly number[])[];
  /**
   * A DISTINCT union: the rows of inputs 0…`through` pass only the first time their key is seen
   * (a UNION DISTINCT removes the duplicates of everything to its left; later ALL parts append).
   * Keys as DistinctPrimitive's; without weight strings every column is compared.
   */
  readonly distinct?: { readonly through: number; readonly weightStringColumns?: readonly number[]; readonly collationTagColumn?: number };
  /**
   * A UNION ALL with no ORDER BY of its own: MariaDB sends it part after part, describing its
   * columns as type holders (no names of their own, strings with decimals 39...), not as the
   * temporary table a DISTINCT or sorted UNION goes through. The executor describes them alike.
   */
  readonly streamedUnionAll?: boolean;
}

/**
 * An expression the gateway evaluates per row. Kept small on purpose: column refs, literals,
 * binds, and arithmetic/comparison/logic the executor implements with MySQL semantics.
 */
export type EvalExpr =
  | { readonly kind: 'column'; readonly index: number }
  | { readonly kind: 'literal'; readonly value: SqlValue }
  | { readonly kind: 'bind'; readonly name: string }
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly EvalExpr[] };

export interface ProjectionPrimitive {
  readonly operator: 'Projection';
  readonly input: Primitive;
  readonly expressions: readonly EvalExpr[];
  /** Output names; an empty name keeps the name of the field it takes (`fieldFrom`, or the column). */
  readonly columnNames: readonly string[];
  /**
   * Per output column: the input column whose field (name, type, decimals) a computed column
   * takes. The planner sets it where a shard computed the same expression per shard (so its
   * metadata is what one MySQL would send) and the gateway recomputes the value.
   */
  readonly fieldFrom?: readonly (number | null)[];
  /**
   * Computed columns without a `fieldFrom` take the type MariaDB gives the expression over the
   * input columns' types (no shard computed it: an aggregation over a join across shards), and
   * an expression whose type the gateway cannot derive is refused. Without it they are text.
   */
  readonly typeFromExpression?: boolean;
  /** Per output column: a name over literals (bind vars), rendered with each execution's values; overrides `columnNames`. */
  readonly nameTemplates?: readonly (QueryTemplate | null)[];
  /**
   * Per output column (a derived table MariaDB materializes, evaluated at the gateway; null where
   * nothing applies): the input columns whose integer width MariaDB's type of the column depends
   * on. A shard computes the outer expression over each column's definition (`ABS(YEAR(d))`, an
   * INT of 5 characters), where MariaDB computes it over a field of its temporary table, which is
   * as wide as the field's type (`ABS(c)` over an INT field has 11: a BIGINT). When the shard's
   * result is an INT and one of `columns` is an INT narrower than 10 characters, `widens` says
   * MariaDB's result is a BIGINT; without it the result type is not derived and the query is
   * refused (1235).
   */
  readonly materializedIntegerWidth?: readonly ({ readonly columns: readonly number[]; readonly widens: boolean } | null)[];
}

export interface FilterPrimitive {
  readonly operator: 'Filter';
  readonly input: Primitive;
  readonly predicate: EvalExpr;
}

/** Statements sent as-is to every shard of a keyspace (DDL), or to one target. */
export interface SendPrimitive {
  readonly operator: 'Send';
  readonly keyspace: KeyspaceRef;
  readonly query: QueryTemplate;
  readonly targetShards?: readonly string[];
  /** true: every shard (DDL); false: any one shard. */
  readonly allShards: boolean;
}

/**
 * Statements the session itself answers or applies: SET, USE, BEGIN/COMMIT/ROLLBACK, SHOW,
 * `select @@version_comment` and friends, VEXPLAIN. The executor's session interprets them.
 */
export interface SessionPrimitive {
  readonly operator: 'Session';
  readonly statement:
    | { readonly kind: 'begin'; readonly readOnly?: boolean }
    | { readonly kind: 'commit' }
    | { readonly kind: 'rollback' }
    | { readonly kind: 'use'; readonly keyspace: string; readonly target?: string }
    | { readonly kind: 'set'; readonly assignments: readonly SetAssignment[] }
    | {
        readonly kind: 'show';
        /** Lower-case words after SHOW [FULL] [GLOBAL|SESSION]: 'databases', 'keyspaces', 'tables', 'variables', 'warnings', 'vschema tables', 'status', 'table status'… */
        readonly what: string;
        readonly like?: string;
        readonly keyspace?: string;
        readonly full?: boolean;
        readonly scope?: 'session' | 'global';
      }
    | { readonly kind: 'select-system'; readonly columns: readonly { readonly name: string; readonly expr: string }[] }
    /**
     * `SELECT … INTO @a, @b`: the session runs `query` (the statement without its INTO clause, its
     * binds rendered back as literals) like any SELECT and assigns the one row's values to
     * `variables` (names as userVariableName gives them), as MariaDB does: no row leaves them as
     * they were (warning 1329), more than one is error 1172.
     */
    | { readonly kind: 'select-into'; readonly query: QueryTemplate; readonly variables: readonly string[] }
    /**
     * `SELECT LAST_INSERT_ID(expr) [AS name]` of a constant: a shard computes the value (name,
     * type and conversion exactly as MariaDB's), and the session takes it as the value the next
     * LAST_INSERT_ID() returns (NULL sets 0).
     */
    | { readonly kind: 'set-last-insert-id'; readonly arg: ValueExpr; readonly alias?: string; /** The argument as written, when it is not a bind var (`NULL`, `null`). */ readonly argText?: string }
    | { readonly kind: 'vexplain'; readonly plan: Plan }
    /** `PREPARE name FROM text`: the session keeps the text (checked by planning it) under the name. */
    | { readonly kind: 'prepare'; readonly name: string; readonly text: PreparedValue }
    /** `EXECUTE name USING …` / `EXECUTE IMMEDIATE text USING …`: the text planned with `?` bound to the values. */
    | { readonly kind: 'execute'; readonly name?: string; readonly text?: PreparedValue; readonly using: readonly PreparedValue[] }
    | { readonly kind: 'deallocate'; readonly name: string; readonly verb: 'DEALLOCATE' | 'DROP' }
    /**
     * `UNLOCK TABLES`. The gateway never takes table locks (LOCK TABLES is refused), so there is
     * nothing to release: OK, as MariaDB answers a session that holds none (mysqldump
     * --single-transaction sends it).
     */
    | { readonly kind: 'unlock-tables' }
    /**
     * `KILL [HARD|SOFT] [CONNECTION|QUERY] id`: ends a gateway client connection, or only the
     * statement it runs, by the id SHOW PROCESSLIST and CONNECTION_ID() give (the gateway's, not a
     * shard's).
     */
    | { readonly kind: 'kill'; readonly scope: 'connection' | 'query'; readonly id: ValueExpr }
    /** `SAVEPOINT name`, `ROLLBACK [WORK] TO [SAVEPOINT] name`, `RELEASE SAVEPOINT name`, on every shard of the transaction. */
    | { readonly kind: 'savepoint' | 'rollback-to-savepoint' | 'release-savepoint'; readonly savepoint: SavepointName };
}

/**
 * One assignment of a SET. A user variable may take any expression: `query` is `SELECT expr`,
 * which the session plans and runs like any statement, and the variable takes its one value
 * (and type), as MariaDB's `SET @v = expr` does.
 */
export interface SetAssignment {
  readonly scope: 'session' | 'global' | 'user';
  readonly name: string;
  readonly value: ValueExpr | { readonly kind: 'default' } | { readonly kind: 'query'; readonly sql: string };
}

/** A savepoint's name: as written to shards (quoted), for messages, and as compared (case-insensitive, as MariaDB). */
export interface SavepointName {
  readonly name: string;
  readonly key: string;
  readonly sql: string;
}

/** A value of a SQL-level prepared statement: a literal, or a user variable the session reads when it runs. */
export type PreparedValue = { readonly kind: 'literal'; readonly value: SqlValue } | { readonly kind: 'userVariable'; readonly name: string };

/** Hands out sequence ids from an unsharded sequence table (`select next N values from seq`). */
export interface NextPrimitive {
  readonly operator: 'Next';
  readonly keyspace: KeyspaceRef;
  readonly sequence: string;
  readonly count: ValueExpr;
}

export type Primitive =
  | RoutePrimitive
  | InsertPrimitive
  | DmlPrimitive
  | JoinPrimitive
  | SemiJoinPrimitive
  | UncorrelatedSubqueryPrimitive
  | CalcFoundRowsPrimitive
  | AggregatePrimitive
  | SortPrimitive
  | LimitPrimitive
  | DistinctPrimitive
  | ConcatenatePrimitive
  | ProjectionPrimitive
  | FilterPrimitive
  | SendPrimitive
  | SessionPrimitive
  | NextPrimitive;

export type QueryType =
  | 'SELECT'
  | 'INSERT'
  | 'REPLACE'
  | 'UPDATE'
  | 'DELETE'
  | 'DDL'
  | 'SET'
  | 'USE'
  | 'BEGIN'
  | 'COMMIT'
  | 'ROLLBACK'
  | 'SHOW'
  | 'EXPLAIN'
  | 'OTHER';

export interface Plan {
  readonly queryType: QueryType;
  readonly instructions: Primitive;
  /** Sorted `keyspace.table` names, as Vitess's TablesUsed. */
  readonly tablesUsed: readonly string[];
  /**
   * A SELECT that may aggregate without GROUP BY at its top level (or in a UNION part): MariaDB
   * then sets FOUND_ROWS() to 0 or 1 for an empty input depending on its own plan (whether it
   * notices the empty input before reading), so the session cannot know it.
   */
  readonly foundRowsUncertain?: true;
  /**
   * `select …, last_insert_id(expr), … from t`: the column whose value in the last row the client
   * gets becomes the session's LAST_INSERT_ID() (NULL sets 0), as MariaDB keeps the value of the
   * last row it evaluates (the last row it sends, for the shapes planned so).
   */
  readonly lastInsertIdColumn?: number;
  /**
   * The statement has a FROM clause naming something other than DUAL (a table, a derived table, a
   * view), in itself or a subquery: MariaDB clears the session's warnings for it. Read from the
   * tokens, so that a `from` inside a string or a function's arguments (`extract(year from d)`,
   * `trim(leading 'x' from s)`) is not one.
   */
  readonly fromClause?: true;
  /**
   * A LIMIT followed anywhere by a comma or OFFSET: one with an offset (some without match too).
   * MariaDB's FOUND_ROWS() then counts the skipped rows, which only a count without the LIMIT knows.
   */
  readonly limitMayHaveOffset?: true;
  /**
   * The statement holds a SELECT (`INSERT … SELECT`, `SET @x = (SELECT …)`, a subquery): after an
   * INSERT, UPDATE, DELETE, SET or DO that holds none, MariaDB keeps FOUND_ROWS() as it was.
   */
  readonly holdsSelect?: true;
}

/** What the planner hands the executor for one execution: a shared plan plus this query's values. */
export interface PlannedQuery {
  readonly plan: Plan;
  /**
   * This call's own values: a fresh object per plan() call, never shared with another call, the
   * cache or a worker. Ownership passes to the caller, which may add its special binds to it in
   * place rather than copy it (a copy is proportional to the statement's literals).
   */
  readonly bindVars: BindVars;
}

/**
 * Bind vars the executor fills from the session before every statement runs; the planner writes
 * them where a statement reads a value of the client's session, which a pooled shard connection
 * would answer with its own: `__vtdbname` (DATABASE()), `__lastInsertId` (LAST_INSERT_ID()),
 * `__vtuser` (USER(): the client's user at its address), `__vtcurrentuser` (CURRENT_USER()),
 * `__vtconnectionid` (CONNECTION_ID()) and `__vtautocommit` (@@autocommit, 1 or 0).
 */
export const SESSION_BINDS = ['__vtdbname', '__lastInsertId', '__vtuser', '__vtcurrentuser', '__vtconnectionid', '__vtautocommit'] as const;

/**
 * Schema-name binds of DBA routes (what Vitess keeps as a route's SysTableTableSchema). Where a
 * query on a system schema compares a schema column (`table_schema`, `schema_name`…) with values,
 * the planner puts a bind of its own in place of each value in the shard SQL, named
 * `__vtschema_<c|s><n>_<source>`: `source` is the bind that holds the value the client wrote (or
 * `__vtdbname` for `database()`), `n` numbers the comparison, and `c` says the statement's rows
 * may be combined from several keyspaces (no ORDER BY, LIMIT, aggregation, DISTINCT, UNION or
 * subquery), `s` that it must be answered by one. The executor sends the route to a shard of each
 * keyspace the values name, and binds each of these per shard: the shard's own keyspace as that
 * shard's database name, a value naming another keyspace as NULL (so rows of a database that
 * shares the server are not counted twice). Kept in the bind name rather than a route field so
 * that the shard SQL alone carries it through every planner path (UNION parts, EXPLAIN).
 */
export interface SysSchemaBind {
  /** The bind holding the value compared with the schema column. */
  readonly source: string;
  /** Which comparison (values of one `IN` list share it). */
  readonly comparison: number;
  /** True when rows from several keyspaces may simply be concatenated. */
  readonly combinable: boolean;
}

export const SYS_SCHEMA_BIND_PREFIX = '__vtschema_';

export function sysSchemaBindName(b: SysSchemaBind): string {
  return `${SYS_SCHEMA_BIND_PREFIX}${b.combinable ? 'c' : 's'}${b.comparison}_${b.source}`;
}

/** The parts of a schema-name bind's name; null for any other bind. */
export function parseSysSchemaBind(name: string): SysSchemaBind | null {
  if (!name.startsWith(SYS_SCHEMA_BIND_PREFIX)) return null;
  const m = /^([cs])(\d+)_(.+)$/.exec(name.slice(SYS_SCHEMA_BIND_PREFIX.length));
  if (!m) return null;
  return { combinable: m[1] === 'c', comparison: Number(m[2]), source: m[3]! };
}
