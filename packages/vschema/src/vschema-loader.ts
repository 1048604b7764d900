import { FUNCTIONAL_FACTORIES } from './functional-vindexes.js';
import { hexToBytes } from './key-range.js';
import { createLookupVindex, LOOKUP_KINDS } from './lookup-vindexes.js';
import { VSchemaError, VSchemaLookupError, unknownKeyspaceError, type VSchemaIssue } from './vschema-error.js';
import type { ColumnVindex, Keyspace, Table, TableType, VSchema } from './vschema-model.js';
import type { Vindex } from './vindex-types.js';

/*
 * Vitess vschema JSON (SrvVSchema, as protojson reads it: snake_case or camelCase keys, unknown keys
 * ignored) -> VSchema. The checks follow go/vt/vtgate/vindexes/vschema.go (BuildVSchema), except
 * that every problem is collected with the JSON path of the offending key instead of stopping at
 * the first one per keyspace. Routing-rule targets are resolved lazily like Vitess (a rule to a
 * missing table only fails the queries that use it).
 */

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Read `obj[snake]` or its camelCase spelling; returns the key actually used for paths. */
function field(obj: Json, snake: string): [unknown, string] {
  if (snake in obj) return [obj[snake], snake];
  const camel = snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  if (camel in obj) return [obj[camel], camel];
  return [undefined, snake];
}

interface MutableKeyspace {
  name: string;
  sharded: boolean;
  vindexes: Map<string, Vindex>;
  tables: Map<string, Table>;
  requireExplicitRouting?: boolean;
  foreignKeyMode?: string;
  views: Map<string, string>;
}

interface PendingTable {
  table: Table & { sequenceTable?: Table };
  path: string;
}

class Builder {
  readonly issues: VSchemaIssue[] = [];
  readonly keyspaces = new Map<string, MutableKeyspace>();
  readonly routingRules = new Map<string, readonly string[]>();
  private readonly autoIncs: { table: Table; sequence: string; path: string }[] = [];
  private readonly refs: PendingTable[] = [];

  issue(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  str(obj: Json, key: string, path: string): [string | undefined, string] {
    const [v, k] = field(obj, key);
    if (v === undefined || v === null) return [undefined, k];
    if (typeof v !== 'string') {
      this.issue(`${path}.${k}`, `must be a string, got ${describe(v)}`);
      return [undefined, k];
    }
    return [v, k];
  }

  bool(obj: Json, key: string, path: string): boolean | undefined {
    const [v, k] = field(obj, key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.issue(`${path}.${k}`, `must be true or false, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  build(json: unknown): void {
    if (!isObj(json)) {
      this.issue('', `a vschema must be a JSON object with "keyspaces", got ${describe(json)}`);
      return;
    }
    const [kss, ksKey] = field(json, 'keyspaces');
    if (kss !== undefined && kss !== null) {
      if (!isObj(kss)) this.issue(ksKey, `must be an object of keyspace name -> keyspace, got ${describe(kss)}`);
      else for (const [name, ks] of Object.entries(kss)) this.keyspace(name, ks, `${ksKey}.${name}`);
    }
    this.routing(json);
    this.resolveReferences();
    this.resolveAutoIncrements();
  }

  private keyspace(name: string, ks: unknown, path: string): void {
    if (!isObj(ks)) {
      this.issue(path, `a keyspace must be an object, got ${describe(ks)}`);
      return;
    }
    const mk: MutableKeyspace = {
      name,
      sharded: this.bool(ks, 'sharded', path) ?? false,
      vindexes: new Map(),
      tables: new Map(),
      views: new Map(),
    };
    const rer = this.bool(ks, 'require_explicit_routing', path);
    if (rer !== undefined) mk.requireExplicitRouting = rer;
    const [fk, fkKey] = field(ks, 'foreign_key_mode');
    if (typeof fk === 'string') mk.foreignKeyMode = fk;
    else if (typeof fk === 'number') mk.foreignKeyMode = String(fk);
    else if (fk !== undefined && fk !== null) this.issue(`${path}.${fkKey}`, `must be a string such as "FK_MANAGED", got ${describe(fk)}`);
    this.keyspaces.set(name, mk);

    const [vdx, vKey] = field(ks, 'vindexes');
    const declared = new Set<string>();
    if (vdx !== undefined && vdx !== null) {
      if (!isObj(vdx)) this.issue(`${path}.${vKey}`, `must be an object of vindex name -> vindex, got ${describe(vdx)}`);
      else {
        for (const [vname, def] of Object.entries(vdx)) {
          declared.add(vname);
          const v = this.vindex(vname, def, `${path}.${vKey}.${vname}`);
          if (v) mk.vindexes.set(vname, v);
        }
      }
    }
    const [tables, tKey] = field(ks, 'tables');
    if (tables !== undefined && tables !== null) {
      if (!isObj(tables)) this.issue(`${path}.${tKey}`, `must be an object of table name -> table, got ${describe(tables)}`);
      else {
        for (const [tname, def] of Object.entries(tables)) {
          const t = this.table(mk, declared, tname, def, `${path}.${tKey}.${tname}`);
          if (t) mk.tables.set(tname, t);
        }
      }
    }
    const [views, viewsKey] = field(ks, 'views');
    if (views !== undefined && views !== null) {
      if (!isObj(views)) this.issue(`${path}.${viewsKey}`, `must be an object of view name -> SELECT statement, got ${describe(views)}`);
      else {
        for (const [vname, def] of Object.entries(views)) {
          const at = `${path}.${viewsKey}.${vname}`;
          if (typeof def !== 'string' || !/^\s*(\(\s*)*(select|with)\b/i.test(def)) this.issue(at, `a view must be a SELECT statement (a string), got ${describe(def)}`);
          else if (mk.tables.has(vname)) this.issue(at, `view ${vname} has the name of a table of keyspace ${name}`);
          else mk.views.set(vname, def.trim().replace(/;\s*$/, ''));
        }
      }
    }
  }

  private vindex(name: string, def: unknown, path: string): Vindex | undefined {
    if (!isObj(def)) {
      this.issue(path, `a vindex must be an object with a "type", got ${describe(def)}`);
      return undefined;
    }
    const [type, typeKey] = this.str(def, 'type', path);
    const [owner] = this.str(def, 'owner', path);
    const params: Record<string, string> = {};
    const [p, pKey] = field(def, 'params');
    if (p !== undefined && p !== null) {
      if (!isObj(p)) this.issue(`${path}.${pKey}`, `must be an object of string params, got ${describe(p)}`);
      else {
        for (const [k, v] of Object.entries(p)) {
          if (typeof v === 'string') params[k] = v;
          else this.issue(`${path}.${pKey}.${k}`, `vindex params are strings in Vitess JSON; write ${JSON.stringify(String(v))}`);
        }
      }
    }
    if (type === undefined) {
      this.issue(`${path}.${typeKey}`, 'missing vindex type');
      return undefined;
    }
    const args = { type, name, params: Object.freeze(params), owner, path, issues: this.issues };
    const functional = FUNCTIONAL_FACTORIES[type];
    if (functional) return functional(args);
    if (LOOKUP_KINDS[type]) return createLookupVindex(args);
    this.issue(`${path}.${typeKey}`, `vindexType ${JSON.stringify(type)} not found (known: ${knownTypes().join(', ')})`);
    return undefined;
  }

  private table(ks: MutableKeyspace, declared: Set<string>, name: string, def: unknown, path: string): Table | undefined {
    if (!isObj(def)) {
      this.issue(path, `a table must be an object, got ${describe(def)}`);
      return undefined;
    }
    const before = this.issues.length;
    const [rawType, typeKey] = this.str(def, 'type', path);
    let type: TableType = ks.sharded ? 'sharded' : 'unsharded';
    const [pinned, pinKey] = this.str(def, 'pinned', path);
    if (rawType === 'reference') type = 'reference';
    else if (rawType === 'sequence') {
      type = 'sequence';
      if (ks.sharded && !pinned) {
        this.issue(`${path}.${typeKey}`, `sequence table has to be in an unsharded keyspace or must be pinned: ${name}`);
      }
    } else if (rawType !== undefined && rawType !== '') {
      this.issue(`${path}.${typeKey}`, `unidentified table type ${rawType} (use "reference", "sequence" or leave it out)`);
    }
    if (pinned !== undefined && pinned !== '' && hexToBytes(pinned) === undefined) {
      this.issue(`${path}.${pinKey}`, `could not decode the keyspace id for pin: ${JSON.stringify(pinned)} is not even-length hex`);
    }
    const [source, srcKey] = this.str(def, 'source', path);
    if (source !== undefined && source !== '' && type !== 'reference') {
      this.issue(`${path}.${srcKey}`, 'only reference tables may have a source');
    }

    // Columns.
    let columns: { name: string; type?: string }[] | undefined;
    const [cols, colsKey] = field(def, 'columns');
    if (cols !== undefined && cols !== null) {
      if (!Array.isArray(cols)) this.issue(`${path}.${colsKey}`, `must be an array of {"name", "type"}, got ${describe(cols)}`);
      else {
        columns = [];
        const seen = new Set<string>();
        cols.forEach((c, i) => {
          const cp = `${path}.${colsKey}[${i}]`;
          if (!isObj(c)) {
            this.issue(cp, `a column must be an object with a "name", got ${describe(c)}`);
            return;
          }
          const [cname, nKey] = this.str(c, 'name', cp);
          const [ctype] = this.str(c, 'type', cp);
          if (!cname) {
            this.issue(`${cp}.${nKey}`, 'missing column name');
            return;
          }
          if (seen.has(cname.toLowerCase())) this.issue(`${cp}.${nKey}`, `duplicate column name '${cname}' for table: ${name}`);
          seen.add(cname.toLowerCase());
          columns!.push(Object.freeze(ctype !== undefined ? { name: cname, type: ctype } : { name: cname }));
        });
      }
    }
    const authoritative = this.bool(def, 'column_list_authoritative', path);

    // Column vindexes.
    const columnVindexes: ColumnVindex[] = [];
    const [cvs, cvKey] = field(def, 'column_vindexes');
    const cvPath = `${path}.${cvKey}`;
    let cvCount = 0;
    if (cvs !== undefined && cvs !== null) {
      if (!Array.isArray(cvs)) this.issue(cvPath, `must be an array of {"column" or "columns", "name"}, got ${describe(cvs)}`);
      else {
        cvCount = cvs.length;
        cvs.forEach((cv, i) => this.columnVindex(ks, declared, name, cv, i, `${cvPath}[${i}]`, columnVindexes));
      }
    }
    if (ks.sharded && type !== 'reference' && !pinned && cvCount === 0) {
      this.issue(cvPath, `missing primary col vindex for table: ${name} (a sharded keyspace's table needs a unique primary vindex, type "reference", or "pinned")`);
    }

    // Auto increment (resolved once every keyspace is known).
    let autoIncrement: { column: string; sequence: string } | undefined;
    const [ai, aiKey] = field(def, 'auto_increment');
    if (ai !== undefined && ai !== null) {
      const ap = `${path}.${aiKey}`;
      if (!isObj(ai)) this.issue(ap, `must be an object with "column" and "sequence", got ${describe(ai)}`);
      else {
        const [col, colKey] = this.str(ai, 'column', ap);
        const [seq, seqKey] = this.str(ai, 'sequence', ap);
        if (!col) this.issue(`${ap}.${colKey}`, 'missing auto_increment column');
        if (!seq) this.issue(`${ap}.${seqKey}`, 'missing auto_increment sequence (the sequence table, "ks.table" or bare)');
        if (col && seq) autoIncrement = { column: col, sequence: seq };
      }
    }
    if (this.issues.length > before) return undefined;

    const table: Table = {
      name,
      keyspace: ks as Keyspace,
      type,
      columnVindexes: Object.freeze(columnVindexes),
      ...(autoIncrement ? { autoIncrement: Object.freeze(autoIncrement) } : {}),
      ...(columns ? { columns: Object.freeze(columns) } : {}),
      ...(authoritative !== undefined ? { columnListAuthoritative: authoritative } : {}),
      ...(pinned ? { pinned: pinned.toLowerCase() } : {}),
      ...(source ? { source } : {}),
    };
    if (autoIncrement) this.autoIncs.push({ table, sequence: autoIncrement.sequence, path: `${path}.${aiKey}.sequence` });
    if (source) this.refs.push({ table, path: `${path}.${srcKey}` });
    return table;
  }

  private columnVindex(
    ks: MutableKeyspace,
    declared: Set<string>,
    tname: string,
    cv: unknown,
    i: number,
    path: string,
    out: ColumnVindex[],
  ): void {
    if (!isObj(cv)) {
      this.issue(path, `a column vindex must be an object with "column"/"columns" and "name", got ${describe(cv)}`);
      return;
    }
    const [vname, nameKey] = this.str(cv, 'name', path);
    const [column, colKey] = this.str(cv, 'column', path);
    const [cols, colsKey] = field(cv, 'columns');
    let columns: string[] = [];
    if (column) {
      if (Array.isArray(cols) && cols.length > 0) {
        this.issue(`${path}.${colsKey}`, `can't use column and columns at the same time in vindex (${vname}) and table (${tname})`);
        return;
      }
      columns = [column];
    } else if (cols !== undefined && cols !== null) {
      if (!Array.isArray(cols) || !cols.every((c) => typeof c === 'string' && c !== '')) {
        this.issue(`${path}.${colsKey}`, `must be an array of column names, got ${describe(cols)}`);
        return;
      }
      columns = cols as string[];
    }
    if (columns.length === 0) {
      this.issue(`${path}.${colKey}`, `must specify at least one column for vindex (${vname}) and table (${tname})`);
      return;
    }
    if (!vname) {
      this.issue(`${path}.${nameKey}`, 'missing vindex name');
      return;
    }
    if (!declared.has(vname)) {
      this.issue(`${path}.${nameKey}`, `vindex ${vname} not found for table ${tname} (declare it under keyspaces.${ks.name}.vindexes)`);
      return;
    }
    const vindex = ks.vindexes.get(vname);
    if (!vindex) return; // its declaration already has an issue
    const owned = vindex.kind === 'lookup' && vindex.owner === tname;
    const multi = vindex.kind === 'functional' && vindex.multiColumn;
    if (vindex.kind === 'functional') {
      // Vitess accepts several columns for a single-column vindex and routes on the first one;
      // the others play no part in routing, so only the first is kept.
      if (!multi && columns.length > 1) columns = columns.slice(0, 1);
      if (multi && vindex.columnCount > 0 && columns.length !== vindex.columnCount) {
        this.issue(`${path}.${colsKey}`, `vindex ${vname} (${vindex.type}) takes ${vindex.columnCount} columns, got ${columns.length}`);
        return;
      }
    }
    if (i === 0) {
      if (!vindex.unique) {
        this.issue(`${path}.${nameKey}`, `primary vindex ${vname} is not Unique for table ${tname} (the first column vindex must be unique)`);
        return;
      }
      if (owned) {
        this.issue(`${path}.${nameKey}`, `primary vindex ${vname} cannot be owned for table ${tname}`);
        return;
      }
    } else if (multi) {
      this.issue(`${path}.${nameKey}`, `multi-column vindex ${vname} should be a primary vindex for table ${tname}`);
      return;
    }
    out.push(
      Object.freeze({ columns: Object.freeze(columns.slice()), name: vname, vindex, owned, cost: vindex.cost, unique: vindex.unique, partial: false }),
    );
    if (multi) {
      // Vitess adds each leading prefix of a partial multi-column vindex, one cost step dearer per
      // dropped column; such a prefix maps to a key range.
      let cost = vindex.cost;
      for (let n = columns.length - 1; n > 0; n--) {
        cost++;
        out.push(Object.freeze({ columns: Object.freeze(columns.slice(0, n)), name: vname, vindex, owned, cost, unique: false, partial: true }));
      }
    }
  }

  private routing(json: Json): void {
    const [rr, rrKey] = field(json, 'routing_rules');
    if (rr === undefined || rr === null) return;
    if (!isObj(rr)) {
      this.issue(rrKey, `must be an object with "rules", got ${describe(rr)}`);
      return;
    }
    const [rules, rulesKey] = field(rr, 'rules');
    if (rules === undefined || rules === null) return;
    if (!Array.isArray(rules)) {
      this.issue(`${rrKey}.${rulesKey}`, `must be an array of {"from_table", "to_tables"}, got ${describe(rules)}`);
      return;
    }
    rules.forEach((rule, i) => {
      const rp = `${rrKey}.${rulesKey}[${i}]`;
      if (!isObj(rule)) {
        this.issue(rp, `a routing rule must be an object, got ${describe(rule)}`);
        return;
      }
      const [from, fromKey] = this.str(rule, 'from_table', rp);
      const [to, toKey] = field(rule, 'to_tables');
      if (!from) {
        this.issue(`${rp}.${fromKey}`, 'missing from_table');
        return;
      }
      let targets: string[] = [];
      if (to !== undefined && to !== null) {
        if (!Array.isArray(to) || !to.every((t) => typeof t === 'string')) {
          this.issue(`${rp}.${toKey}`, `must be an array of "keyspace.table" strings, got ${describe(to)}`);
          return;
        }
        targets = to as string[];
      }
      // A repeated from_table is an error Vitess stores on the rule; keep the first and flag it.
      if (this.routingRules.has(from)) {
        this.issue(`${rp}.${fromKey}`, `duplicate rule for entry ${from}`);
        return;
      }
      this.routingRules.set(from, Object.freeze(targets.slice()));
    });
  }

  private resolveReferences(): void {
    const vs = this.view();
    for (const { table, path } of this.refs) {
      const source = table.source!;
      const parts = source.split('.');
      if (parts.length > 2 || parts.some((p) => p === '')) {
        this.issue(path, `invalid source ${JSON.stringify(source)} for reference table: ${table.name}; it must be <keyspace>.<table> or <table>`);
        continue;
      }
      if (parts.length === 1) continue; // unqualified: resolved through global routing at query time
      const [sks, st] = parts;
      if (sks === table.keyspace.name) {
        this.issue(path, `source ${JSON.stringify(source)} may not reference a table in the same keyspace as table: ${table.name}`);
        continue;
      }
      const ks = vs.keyspace(sks);
      if (!ks) {
        this.issue(path, `source ${JSON.stringify(source)} references a non-existent keyspace ${JSON.stringify(sks)}`);
        continue;
      }
      const target = ks.tables.get(st);
      if (!target) {
        this.issue(path, `source ${JSON.stringify(source)} references a table ${JSON.stringify(st)} that is not present in the VSchema of keyspace ${JSON.stringify(sks)}`);
        continue;
      }
      if (target.type !== 'reference' && target.type !== 'unsharded' && target.type !== 'sharded') {
        this.issue(path, `source ${JSON.stringify(source)} may not reference a table of type ${JSON.stringify(target.type)}: ${table.name}`);
      } else if (target.source) {
        this.issue(path, `reference chaining is not allowed ${table.name} => ${sks}.${st} => ${target.source}: ${table.name}`);
      }
    }
  }

  private resolveAutoIncrements(): void {
    const vs = this.view();
    for (const { table, sequence, path } of this.autoIncs) {
      const parts = sequence.split('.');
      if (parts.length > 2 || parts.some((p) => p === '')) {
        this.issue(path, `cannot resolve sequence ${sequence}: it must be <keyspace>.<table> or <table>`);
        continue;
      }
      let seq: Table | undefined;
      try {
        seq = parts.length === 2 ? vs.findTableNoRules(parts[1], parts[0]) : vs.findTableNoRules(parts[0], null);
      } catch (e) {
        this.issue(path, `cannot resolve sequence ${sequence}: ${(e as Error).message}`);
        continue;
      }
      if (!seq) {
        this.issue(path, `cannot resolve sequence ${sequence}: table ${parts[parts.length - 1]} not found`);
        continue;
      }
      if (seq.type !== 'sequence') {
        this.issue(path, `sequence ${sequence} names table ${seq.keyspace.name}.${seq.name}, which is not a sequence table (declare it with "type": "sequence")`);
        continue;
      }
      (table as { sequenceTable?: Table }).sequenceTable = seq;
    }
  }

  private cached?: LoadedVSchema;
  view(): LoadedVSchema {
    this.cached ??= new LoadedVSchema(this.keyspaces, this.routingRules);
    return this.cached;
  }
}

/** The VSchema implementation. See VSchema for the concurrency rule (immutable after load). */
class LoadedVSchema implements VSchema {
  readonly keyspaces: ReadonlyMap<string, Keyspace>;
  readonly routingRules: ReadonlyMap<string, readonly string[]>;
  // Table name -> the one table of that name across keyspaces, or null when several keyspaces
  // have it (ambiguous). Built in the constructor, read-only afterwards.
  private readonly globalTables = new Map<string, Table | null>();
  private readonly globalVindexes = new Map<string, Vindex | null>();

  constructor(keyspaces: ReadonlyMap<string, Keyspace>, routingRules: ReadonlyMap<string, readonly string[]>) {
    this.keyspaces = keyspaces;
    this.routingRules = routingRules;
    for (const ks of keyspaces.values()) {
      if (ks.requireExplicitRouting) continue;
      for (const [vname, v] of ks.vindexes) {
        this.globalVindexes.set(vname, this.globalVindexes.has(vname) ? null : v);
      }
      for (const [tname, t] of ks.tables) {
        if (this.globalTables.has(tname)) {
          const gt = this.globalTables.get(tname);
          if (gt === null) continue;
          // A reference table whose source is the already-registered table is no ambiguity.
          if (t.type === 'reference' && t.source) {
            const q = t.source.includes('.') ? t.source.split('.')[0] : '';
            if (q === '' || q === gt!.keyspace.name) continue;
          }
          this.globalTables.set(tname, null);
        } else {
          // A reference table with a same-named source is globally routed through its source.
          if (t.type === 'reference' && t.source && t.source.split('.').pop() === tname) continue;
          this.globalTables.set(tname, t);
        }
      }
    }
  }

  keyspace(name: string): Keyspace | undefined {
    return this.keyspaces.get(name);
  }

  findTable(name: string, qualifier?: string | null, defaultKeyspace?: string | null): Table | undefined {
    const ks = qualifier || defaultKeyspace || '';
    const qualified = ks ? `${ks}.${name}` : name;
    for (const key of [`${qualified}@primary`, qualified]) {
      const targets = this.routingRules.get(key);
      if (targets === undefined) continue;
      if (targets.length === 0) {
        throw new VSchemaLookupError(`table ${name} has been disabled`);
      }
      if (targets.length > 1) {
        throw new VSchemaLookupError(`table ${key} has more than one target: [${targets.join(' ')}]`);
      }
      const parts = targets[0].split('.');
      if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
        throw new VSchemaLookupError(`table ${targets[0]} must be qualified`);
      }
      const t = this.findTableNoRules(parts[1], parts[0]);
      if (!t) throw new VSchemaLookupError(`table ${parts[1]} not found`, 1146, '42S02');
      return t;
    }
    return this.findTableNoRules(name, ks || null);
  }

  /** Vitess findTable with constructUnshardedIfNotFound: no routing rules. */
  findTableNoRules(name: string, keyspace: string | null): Table | undefined {
    if (keyspace) {
      const ks = this.keyspaces.get(keyspace);
      if (!ks) throw unknownKeyspaceError(keyspace);
      return ks.tables.get(name) ?? implicitTable(ks, name);
    }
    if (this.keyspaces.size === 1) {
      const ks = this.keyspaces.values().next().value as Keyspace;
      return ks.tables.get(name) ?? implicitTable(ks, name);
    }
    const t = this.globalTables.get(name);
    if (t === null) throw new VSchemaLookupError(`ambiguous table reference: ${name}`);
    return t;
  }

  findVindex(name: string, keyspace?: string | null): Vindex | undefined {
    if (keyspace) {
      const ks = this.keyspaces.get(keyspace);
      if (!ks) throw unknownKeyspaceError(keyspace);
      return ks.vindexes.get(name);
    }
    const v = this.globalVindexes.get(name);
    if (v === null) throw new VSchemaLookupError(`ambiguous vindex reference: ${name}`);
    return v;
  }
}

function implicitTable(ks: Keyspace, name: string): Table | undefined {
  if (ks.sharded) return undefined;
  return Object.freeze({ name, keyspace: ks, type: 'unsharded' as const, columnVindexes: Object.freeze([]), implicit: true });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function knownTypes(): string[] {
  return [...Object.keys(FUNCTIONAL_FACTORIES), ...Object.keys(LOOKUP_KINDS)].sort();
}

function freezeAll(b: Builder): void {
  for (const ks of b.keyspaces.values()) {
    for (const t of ks.tables.values()) Object.freeze(t);
    Object.freeze(ks);
  }
}

/** Check a Vitess vschema JSON value; returns every issue (empty = valid). Never throws. */
export function validateVSchema(json: unknown): VSchemaIssue[] {
  const b = new Builder();
  b.build(json);
  return b.issues;
}

/** Load a Vitess vschema JSON value. Throws VSchemaError listing every issue. */
export function loadVSchema(json: unknown): VSchema {
  const b = new Builder();
  b.build(json);
  if (b.issues.length > 0) throw new VSchemaError(b.issues);
  freezeAll(b);
  return b.view();
}
