/**
 * Column metadata of shard results, converted once per distinct metadata instead of once per
 * statement.
 *
 * mysql2 decodes a column's catalog, table and other names lazily, through getters that each
 * build a string and add a property to the column object; reading all of them for every column
 * of every result was about 2% of a point select's gateway CPU. The same statement shape returns
 * the same metadata bytes every time, so the FieldInfo objects are kept, keyed by those bytes, and
 * shared (frozen) between results. Returning the same array for the same metadata also lets the
 * protocol reuse its encoding of the column definitions.
 *
 * The key reads mysql2's undocumented ColumnDefinition layout (`_buf` and the string offsets).
 * When a column does not have that layout (another mysql2 version), every result is converted
 * afresh, as before.
 */
import type { FieldPacket } from 'mysql2';
import { parseColumnDefinition, type ColumnDefinitionPacket } from '@shardgate/mysql-protocol';
import type { FieldInfo } from './types.js';
import { BINARY_CHARSET, ColumnFlag, ColumnType } from './values/column-types.js';

/** Distinct metadata (results of different shapes) kept per shard; beyond it, the cache restarts. */
const MAX_ENTRIES = 1000;

/** What the key reads of a mysql2 ColumnDefinition; all checked before use. */
interface ColumnDefinitionLayout {
  readonly _buf?: unknown;
  readonly _catalogLength?: unknown;
  readonly _catalogStart?: unknown;
  readonly _orgNameStart?: unknown;
  readonly _orgNameLength?: unknown;
  readonly characterSet?: unknown;
  readonly columnLength?: unknown;
  readonly columnType?: unknown;
  readonly flags?: unknown;
  readonly decimals?: unknown;
}

/** The BLOB and BINARY column flags MySQL sets on a JSON column. */
const JSON_FLAGS = ColumnFlag.BLOB | ColumnFlag.BINARY;

/**
 * A column MariaDB marks as JSON in its extended metadata (MariaDB's JSON is a LONGTEXT; mysql2
 * reads the mark because it negotiates MARIADB_CLIENT_EXTENDED_METADATA with the shards).
 */
function isMariadbJson(f: FieldPacket): boolean {
  return (f as { extendedFormat?: unknown }).extendedFormat === 'json';
}

export function toFieldInfo(f: FieldPacket, keyspace: string, database?: string): FieldInfo {
  const p = f as FieldPacket & { columnType?: number; characterSet?: number; columnLength?: number; orgName?: string; orgTable?: string };
  if (isMariadbJson(f)) {
    // The gateway speaks as a MySQL server, whose clients know JSON only as its own column type:
    // announced as one (binary charset, as MySQL sends it), mysql2 parses the values as one plain
    // MariaDB's JSON columns are parsed, instead of returning strings.
    return { ...toPlainFieldInfo(p, keyspace, database), columnType: ColumnType.JSON, characterSet: BINARY_CHARSET, flags: Number(p.flags ?? 0) | JSON_FLAGS };
  }
  return toPlainFieldInfo(p, keyspace, database);
}

function toPlainFieldInfo(p: FieldPacket & { columnType?: number; characterSet?: number; columnLength?: number; orgName?: string; orgTable?: string }, keyspace: string, database: string | undefined): FieldInfo {
  return {
    catalog: p.catalog ?? 'def',
    schema: clientSchema(p.db ?? p.schema ?? '', keyspace, database),
    table: p.table ?? '',
    orgTable: p.orgTable ?? '',
    name: p.name,
    orgName: p.orgName ?? '',
    characterSet: p.characterSet ?? 63,
    columnLength: p.columnLength ?? 0,
    columnType: p.columnType ?? (p.type as number) ?? 253,
    flags: Number(p.flags ?? 0),
    decimals: p.decimals ?? 0,
  };
}

/**
 * The database a column names for the client: the keyspace where the shard names its own
 * database (or names one while the gateway does not know the shard's), nothing for an expression,
 * and any other database as the shard names it (`information_schema` for SHOW COLUMNS), as one
 * MariaDB does.
 */
function clientSchema(db: string, keyspace: string, database: string | undefined): string {
  if (db === '') return '';
  return database === undefined || database === '' || db === database ? keyspace : db;
}

/** One column's metadata as the key compares it: the numbers, then the names' raw bytes. */
interface ColumnKey {
  readonly numbers: readonly number[];
  readonly names: Buffer;
}

interface Entry {
  readonly columns: readonly ColumnKey[];
  readonly infos: readonly FieldInfo[];
}

/**
 * One shard's cache (its schema name is the keyspace). Entries are found by a 32-bit hash of the
 * metadata bytes and confirmed byte for byte, so a hash collision only costs a fresh conversion.
 *
 * Concurrency rule: `entries` is read and written only synchronously in convert(); entries are
 * immutable (frozen infos) once stored, so results of concurrent statements may share them.
 */
export class FieldInfoCache {
  private readonly entries = new Map<number, Entry>();

  constructor(
    private readonly keyspace: string,
    /** The shard's database (its connection's default), which the client knows as the keyspace. */
    private readonly database?: string,
  ) {}

  convert(fields: readonly FieldPacket[]): readonly FieldInfo[] {
    let hash = FNV_OFFSET ^ fields.length;
    for (let i = 0; i < fields.length; i++) {
      const c = fields[i] as ColumnDefinitionLayout;
      if (!hasLayout(c)) return fields.map((f) => toFieldInfo(f, this.keyspace, this.database));
      hash = hashColumn(c, hash);
    }
    const hit = this.entries.get(hash);
    if (hit !== undefined && matches(hit, fields as readonly ColumnDefinitionLayout[])) return hit.infos;
    const infos = Object.freeze(fields.map((f) => Object.freeze(toFieldInfo(f, this.keyspace, this.database))));
    const columns = (fields as readonly ColumnDefinitionLayout[]).map((c) => ({
      numbers: numbersOf(c),
      names: Buffer.from((c._buf as Buffer).subarray(c._catalogStart as number, namesEnd(c))),
    }));
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(hash, { columns, infos });
    return infos;
  }
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** True when the column has the layout the key reads, with offsets inside its buffer. */
function hasLayout(c: ColumnDefinitionLayout): boolean {
  const buf = c._buf;
  if (!(buf instanceof Buffer) || typeof c._catalogStart !== 'number' || typeof c._orgNameStart !== 'number' || typeof c._orgNameLength !== 'number') return false;
  const end = namesEnd(c);
  return c._catalogStart >= 0 && end >= c._catalogStart && end <= buf.length;
}

/** End of the six names (each after the first with its length prefix), just after orgName. */
function namesEnd(c: ColumnDefinitionLayout): number {
  return (c._orgNameStart as number) + (c._orgNameLength as number);
}

/** The attributes mysql2 decodes eagerly, plus the catalog's length (its prefix is outside the names' bytes). */
function numbersOf(c: ColumnDefinitionLayout): number[] {
  return [Number(c._catalogLength), Number(c.characterSet), Number(c.columnLength), Number(c.columnType), Number(c.flags), Number(c.decimals), jsonMark(c)];
}

/** 1 for a column with MariaDB's JSON mark (it changes the FieldInfo, so it is part of the key). */
function jsonMark(c: ColumnDefinitionLayout): number {
  return isMariadbJson(c as unknown as FieldPacket) ? 1 : 0;
}

/** FNV-1a over the column's numbers and name bytes. */
function hashColumn(c: ColumnDefinitionLayout, hash: number): number {
  hash = Math.imul(hash ^ Number(c._catalogLength), FNV_PRIME);
  hash = Math.imul(hash ^ Number(c.characterSet), FNV_PRIME);
  hash = Math.imul(hash ^ Number(c.columnLength), FNV_PRIME);
  hash = Math.imul(hash ^ Number(c.columnType), FNV_PRIME);
  hash = Math.imul(hash ^ Number(c.flags), FNV_PRIME);
  hash = Math.imul(hash ^ Number(c.decimals), FNV_PRIME);
  hash = Math.imul(hash ^ jsonMark(c), FNV_PRIME);
  const buf = c._buf as Buffer;
  const end = namesEnd(c);
  for (let i = c._catalogStart as number; i < end; i++) hash = Math.imul(hash ^ buf[i], FNV_PRIME);
  return hash;
}

function matches(entry: Entry, fields: readonly ColumnDefinitionLayout[]): boolean {
  if (entry.columns.length !== fields.length) return false;
  for (let i = 0; i < fields.length; i++) {
    const key = entry.columns[i];
    const c = fields[i];
    const n = key.numbers;
    if (
      n[0] !== Number(c._catalogLength) ||
      n[1] !== Number(c.characterSet) ||
      n[2] !== Number(c.columnLength) ||
      n[3] !== Number(c.columnType) ||
      n[4] !== Number(c.flags) ||
      n[5] !== Number(c.decimals) ||
      n[6] !== jsonMark(c)
    ) {
      return false;
    }
    const start = c._catalogStart as number;
    const end = namesEnd(c);
    const names = key.names;
    if (end - start !== names.length) return false;
    const buf = c._buf as Buffer;
    for (let j = 0; j < names.length; j++) if (buf[start + j] !== names[j]) return false;
  }
  return true;
}

/** A column definition as the shard client parses it (see @shardgate/mysql-protocol). */
type ParsedColumn = ColumnDefinitionPacket;

function fromParsedColumn(c: ParsedColumn, keyspace: string, database: string | undefined): FieldInfo {
  const info: FieldInfo = {
    catalog: c.catalog,
    schema: clientSchema(c.schema, keyspace, database),
    table: c.table,
    orgTable: c.orgTable,
    name: c.name,
    orgName: c.orgName,
    characterSet: c.characterSet,
    columnLength: c.columnLength,
    columnType: c.columnType,
    flags: c.flags,
    decimals: c.decimals,
  };
  // As toFieldInfo: MariaDB's JSON (a LONGTEXT marked `json`) is announced as MySQL's JSON type.
  if (c.extendedFormat === 'json') return { ...info, columnType: ColumnType.JSON, characterSet: BINARY_CHARSET, flags: c.flags | JSON_FLAGS };
  return info;
}

interface RawEntry {
  /** The definition payloads, concatenated, each after its 3-byte length. */
  readonly key: Buffer;
  readonly infos: readonly FieldInfo[];
}

/**
 * FieldInfoCache for the shard client, which hands over the column definition payloads as bytes:
 * the key is those bytes (FNV-1a hash, confirmed byte for byte), so a result of a known shape
 * costs one pass over its metadata bytes and no string.
 *
 * Concurrency rule: as FieldInfoCache (`entries` and `last` touched only synchronously in
 * convert(); entries immutable once stored).
 */
export class RawFieldInfoCache {
  private readonly entries = new Map<number, RawEntry>();
  /**
   * The entry the last convert() returned: a shard answering one statement shape over and over
   * (every shard of a scatter) is confirmed against it without hashing the bytes first, which
   * byte by byte in JavaScript cost several times the native comparison.
   */
  private last: RawEntry | null = null;

  constructor(
    private readonly keyspace: string,
    private readonly extendedMetadata: () => boolean,
    /** The shard's database (its connection's default), which the client knows as the keyspace. */
    private readonly database?: string,
  ) {}

  convert(definitions: readonly Buffer[]): readonly FieldInfo[] {
    let total = 0;
    for (let i = 0; i < definitions.length; i++) total += 3 + definitions[i].length;
    const last = this.last;
    if (last !== null && sameDefinitions(last.key, definitions, total)) return last.infos;
    let hash = FNV_OFFSET ^ definitions.length;
    for (let i = 0; i < definitions.length; i++) {
      const d = definitions[i];
      hash = Math.imul(hash ^ d.length, FNV_PRIME);
      for (let j = 0; j < d.length; j++) hash = Math.imul(hash ^ d[j], FNV_PRIME);
    }
    const hit = this.entries.get(hash);
    if (hit !== undefined && sameDefinitions(hit.key, definitions, total)) {
      this.last = hit;
      return hit.infos;
    }
    const extended = this.extendedMetadata();
    const infos = Object.freeze(definitions.map((d) => Object.freeze(fromParsedColumn(parseColumnDefinition(d, extended), this.keyspace, this.database))));
    const key = Buffer.allocUnsafe(total);
    let p = 0;
    for (const d of definitions) {
      key.writeUIntLE(d.length, p, 3);
      p += 3 + d.copy(key, p + 3);
    }
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const entry = { key, infos };
    this.entries.set(hash, entry);
    this.last = entry;
    return infos;
  }
}

function sameDefinitions(key: Buffer, definitions: readonly Buffer[], total: number): boolean {
  if (key.length !== total) return false;
  let p = 0;
  for (let i = 0; i < definitions.length; i++) {
    const d = definitions[i];
    if (key.readUIntLE(p, 3) !== d.length) return false;
    p += 3;
    if (key.compare(d, 0, d.length, p, p + d.length) !== 0) return false;
    p += d.length;
  }
  return true;
}
