/**
 * Normalization of prepared statements (`?` params), once per text: the text of a prepared
 * statement never changes between executions, only its params do, so the tokenizing and
 * normalizing that every execution paid (~3 kB and ~5% of a sysbench range's profile) is done
 * once and each execution only fills the params into a fresh bind-var object.
 *
 * A text qualifies when its normalized form does not depend on the param values nor on session
 * state. That is found by normalizing it once with stand-in params (one unique object each) and
 * user variables that record being read:
 * - every param must come out as a bind var of its own holding its stand-in, untouched: a param
 *   inlined into the text (`LIMIT ?`, `?` in SET or SHOW), put in an array (IN lists, INSERT
 *   rows) or examined (an error) leaves a stand-in missing, and the text is not kept;
 * - no user variable may have been read (its value is copied into a bind var at each execution);
 * - the normalizer reads nothing else: the session's keyspace, the vschema and its epoch enter
 *   the plan-cache key (Planner.planNormalized), which is still computed at every execution.
 * What fails these tests is recorded as such and normalized at every execution, as before.
 *
 * The shape is a function of the text alone, so it is kept by text rather than per prepared
 * statement: COM_STMT_EXECUTE and SQL-level EXECUTE of the same text share it, and no session
 * or protocol object has to carry it.
 */
import { ExactNumber, type BindVars, type SqlValue } from './plan-types.js';
import { normalize, type NormalizedQuery, type UserVariables } from './normalizer.js';

/** One bind var of a prepared shape, in the order the normalizer created it. */
type ShapeBind =
  | { readonly name: string; readonly param: number; readonly value: null }
  | { readonly name: string; readonly param: -1; readonly value: SqlValue };

/** What normalize() returns for a text, with the params left as slots. */
interface PreparedShape {
  readonly query: Omit<NormalizedQuery, 'bindVars'>;
  readonly binds: readonly ShapeBind[];
}

/** Marks a text whose normalization depends on its params or on session state. */
const PER_EXECUTION = null;

/**
 * Stands in for the session's user variables while a shape is computed, to see whether the text
 * reads any (the normalizer reads them with get() only).
 * Concurrency rule: one instance per shapeOf() call (normalize is synchronous), never shared.
 */
class UserVariableReads extends Map<string, SqlValue> {
  read = false;
  override get(): SqlValue | undefined {
    this.read = true;
    return undefined;
  }
  override has(): boolean {
    this.read = true;
    return false;
  }
}

/**
 * The text's shape, or PER_EXECUTION when a param or a user variable shapes the normalization
 * (or normalizing with stand-ins failed: `LIMIT ?` examines its param, and whatever the error,
 * the per-execution normalize raises it, or not, from the real values).
 */
function shapeOf(sql: string, paramCount: number): PreparedShape | typeof PER_EXECUTION {
  const standIns: object[] = [];
  for (let i = 0; i < paramCount; i++) standIns.push({});
  const reads = new UserVariableReads();
  let n: NormalizedQuery;
  try {
    n = normalize(sql, standIns as unknown as SqlValue[], reads);
  } catch {
    return PER_EXECUTION;
  }
  if (reads.read) return PER_EXECUTION;
  const binds: ShapeBind[] = [];
  const taken = new Array<boolean>(paramCount).fill(false);
  let params = 0;
  for (const name of Object.keys(n.bindVars)) {
    const value = n.bindVars[name]!;
    const param = standIns.indexOf(value as object);
    if (param >= 0) {
      if (taken[param]) return PER_EXECUTION;
      taken[param] = true;
      binds.push({ name, param, value: null });
      params++;
    } else if (isImmutableValue(value)) {
      binds.push({ name, param: -1, value });
    } else {
      // An array (an IN list, INSERT rows: possibly holding params) or a Buffer: a fresh one per
      // execution, as normalize makes, is not worth a shape of its own.
      return PER_EXECUTION;
    }
  }
  // Each param the normalizer took must be a bind var of its own; one that is missing was inlined.
  if (params !== n.placeholders) return PER_EXECUTION;
  // Shared by every execution: frozen, so that a write to them would throw rather than leak.
  const query = Object.freeze({ normalized: n.normalized, directives: Object.freeze({ ...n.directives }), directivesKey: n.directivesKey, kind: n.kind, placeholders: n.placeholders });
  return { query, binds };
}

/** A literal's value that no execution can change: kept in the shape and shared. */
function isImmutableValue(value: unknown): value is SqlValue {
  const t = typeof value;
  return value === null || t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean' || value instanceof ExactNumber;
}

/**
 * Shapes of prepared texts, by text, up to `maxEntries` (the oldest goes first beyond).
 * Concurrency rule: read and written only synchronously inside Planner.plan (one thread); a
 * shape is immutable once stored, and each execution gets bind vars of its own.
 */
export class PreparedNormalizer {
  private readonly shapes = new Map<string, PreparedShape | typeof PER_EXECUTION>();

  constructor(private readonly maxEntries: number) {}

  /**
   * The same result as normalize(sql, params, userVariables), from the text's kept shape when it
   * has one. `params` must be non-empty (a text without `?` is normalized as any statement).
   */
  normalize(sql: string, params: readonly SqlValue[], userVariables: UserVariables | undefined): NormalizedQuery {
    let shape = this.shapes.get(sql);
    if (shape === undefined) {
      const computed = shapeOf(sql, params.length);
      if (this.shapes.size >= this.maxEntries) this.shapes.delete(this.shapes.keys().next().value!);
      this.shapes.set(sql, computed);
      shape = computed;
    }
    // Fewer params than `?`: normalize raises 1210 as it always did.
    if (shape === PER_EXECUTION || params.length < shape.query.placeholders) return normalize(sql, params, userVariables);
    const bindVars: BindVars = {};
    const binds = shape.binds;
    for (let i = 0; i < binds.length; i++) {
      const b = binds[i]!;
      bindVars[b.name] = b.param < 0 ? b.value! : params[b.param]!;
    }
    const q = shape.query;
    return { normalized: q.normalized, bindVars, directives: q.directives, directivesKey: q.directivesKey, kind: q.kind, placeholders: q.placeholders };
  }

  /** Texts kept, with a shape or marked for per-execution normalizing (tests). */
  get size(): number {
    return this.shapes.size;
  }

  /** Whether executions of `sql` fill a kept shape (tests). */
  hasShape(sql: string): boolean {
    return (this.shapes.get(sql) ?? null) !== null;
  }
}
