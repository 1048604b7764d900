/**
 * The gateway's configuration file (YAML or JSON): parsing, defaults and validation.
 *
 * Every problem is reported with the path of the key that is wrong, so that a user can fix the
 * file without reading code. Relative file paths resolve from the config file's folder.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export type Workload = 'oltp' | 'olap';
export type TransactionMode = 'single' | 'multi';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** A shard is either started and owned by the gateway (`local`) or an existing server. */
export type ShardSource =
  | { readonly kind: 'local' }
  | {
      readonly kind: 'remote';
      readonly host: string;
      readonly port: number;
      readonly user: string;
      readonly password: string;
      readonly database: string;
    };

export interface KeyspaceConfig {
  readonly name: string;
  /** SQL applied to every local shard at start. */
  readonly schemaFile?: string;
  readonly shards: ReadonlyMap<string, ShardSource>;
}

export interface PlanCacheConfig {
  readonly variant: 'mutex' | 'sharded';
  readonly stripes: number;
  readonly maxCost: number;
  readonly maxEntries: number;
}

export interface UserConfig {
  readonly user: string;
  readonly password: string;
  /** Refuse this user's logins over plain TCP (1045), as MariaDB's REQUIRE SSL. */
  readonly requireTls: boolean;
  readonly plugin: 'mysql_native_password' | 'caching_sha2_password';
}

export interface GatewayConfig {
  readonly file: string;
  readonly listen: { readonly mysql: ListenAddress; readonly http: ListenAddress | null };
  readonly users: readonly UserConfig[];
  /** Absolute paths of the PEM certificate, key and optional CA chain; undefined: no TLS. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string };
  readonly workload: Workload;
  readonly transactionMode: TransactionMode;
  readonly queryTimeoutMs: number;
  /** An open transaction idle this long is rolled back (0 = never). */
  readonly transactionTimeoutMs: number;
  readonly maxMemoryRows: number;
  readonly poolSize: number;
  readonly vschemaFile: string;
  readonly keyspaces: ReadonlyMap<string, KeyspaceConfig>;
  readonly planCache: PlanCacheConfig;
  /** SQL run through the gateway once it is up (demo rows); routed like any client query. */
  readonly seedFile?: string;
  /**
   * Absolute folder keeping every local shard at `<dataDir>/<keyspace>/<shard>` across runs;
   * undefined: local shards are throwaway.
   */
  readonly dataDir?: string;
  /** SIGTERM: how long running statements may take to finish before sessions are closed. */
  readonly drainTimeoutMs: number;
  /** Statements slower than this are logged (0: no slow-query log). */
  readonly slowQueryMs: number;
  /** Open client connections allowed at once (1040 beyond); undefined = unlimited. */
  readonly maxConnections?: number;
  /**
   * The client connection ids this gateway hands out, first to last; undefined = 1 to 2^32 − 1.
   * Gateways behind one load balancer take ranges that do not overlap, so that the id a client
   * reads from CONNECTION_ID() and passes to KILL names one connection of one gateway.
   */
  readonly connectionIds?: { readonly first: number; readonly last: number };
  /**
   * A client that has not logged in this long after connecting is dropped without an error
   * packet, as MariaDB does past connect_timeout.
   */
  readonly connectTimeoutMs: number;
  /**
   * A logged-in client that sent part of a packet and then nothing for this long is dropped
   * without an error packet (its transaction rolled back); see MysqlServerOptions.netReadTimeoutMs.
   */
  readonly netReadTimeoutMs: number;
  /**
   * A client idle between statements this long is dropped without an error packet (its
   * transaction rolled back), as MariaDB does past wait_timeout; a session's `SET wait_timeout`
   * overrides it. Whole seconds (rounded up).
   */
  readonly waitTimeoutMs: number;
  /** Largest client packet (statement) accepted; larger ones get 1153 and the connection closes, as in MariaDB. */
  readonly maxAllowedPacket: number;
  /**
   * Most bytes of client packets (statements over 64 KiB) all connections hold at once, from a
   * packet's header until its statement is done; a statement that would need more gets 1041.
   */
  readonly maxPacketMemory: number;
  /** Deadline for planning one plan-cache miss in the plan workers; past it the statement gets 1969. */
  readonly planTimeoutMs: number;
  /** Most plan worker threads for plan-cache misses, started on demand (0: plan on the event loop). */
  readonly planWorkers: number;
  /** A plan worker with no statement to plan for this long exits (0: never). */
  readonly planWorkerIdleMs: number;
}

/** A config problem, with the path of the key that is wrong. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: readonly { readonly path: string; readonly message: string }[],
  ) {
    super(`invalid config ${file}:\n` + issues.map((i) => `  ${i.path}: ${i.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

const KNOWN_TOP_LEVEL = new Set([
  'listen',
  'users',
  'workload',
  'transactionMode',
  'queryTimeoutMs',
  'transactionTimeoutMs',
  'maxMemoryRows',
  'poolSize',
  'vschema',
  'keyspaces',
  'planCache',
  'seed',
  'dataDir',
  'drainTimeoutMs',
  'slowQueryMs',
  'maxConnections',
  'connectionIds',
  'maxAllowedPacket',
  'maxPacketMemory',
  'connectTimeoutMs',
  'netReadTimeoutMs',
  'waitTimeoutMs',
  'tls',
  'planTimeoutMs',
  'planWorkers',
  'planWorkerIdleMs',
]);

export function loadConfig(file: string): GatewayConfig {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new ConfigError(absolute, [{ path: '(file)', message: `cannot read: ${(err as Error).message}` }]);
  }
  let raw: unknown;
  try {
    raw = absolute.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError(absolute, [{ path: '(file)', message: `not valid ${absolute.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}` }]);
  }
  return parseConfig(raw, absolute);
}

/** Validates an already-parsed config object; `file` locates relative paths and error messages. */
export function parseConfig(raw: unknown, file: string): GatewayConfig {
  const issues: { path: string; message: string }[] = [];
  const problem = (p: string, message: string): void => {
    issues.push({ path: p, message });
  };
  const dir = path.dirname(file);
  const resolveFile = (p: string, value: unknown, required: boolean): string | undefined => {
    if (value === undefined || value === null) {
      if (required) problem(p, 'is required (a file path)');
      return undefined;
    }
    if (typeof value !== 'string' || value === '') {
      problem(p, 'must be a file path');
      return undefined;
    }
    return path.resolve(dir, value);
  };

  if (!isObject(raw)) {
    throw new ConfigError(file, [{ path: '(root)', message: 'must be a mapping of config keys' }]);
  }
  for (const key of Object.keys(raw)) {
    if (!KNOWN_TOP_LEVEL.has(key)) problem(key, `unknown key (known: ${[...KNOWN_TOP_LEVEL].join(', ')})`);
  }

  const listenRaw = raw.listen ?? {};
  let mysql: ListenAddress = { host: '127.0.0.1', port: 15306 };
  let http: ListenAddress | null = { host: '127.0.0.1', port: 15000 };
  if (!isObject(listenRaw)) {
    problem('listen', 'must be a mapping with mysql and http addresses');
  } else {
    for (const key of Object.keys(listenRaw)) {
      if (key !== 'mysql' && key !== 'http') problem(`listen.${key}`, 'unknown key (known: mysql, http)');
    }
    if (listenRaw.mysql !== undefined) mysql = parseAddress('listen.mysql', listenRaw.mysql, problem) ?? mysql;
    if (listenRaw.http === null || listenRaw.http === false) http = null;
    else if (listenRaw.http !== undefined) http = parseAddress('listen.http', listenRaw.http, problem) ?? http;
  }

  const users: UserConfig[] = [];
  if (!Array.isArray(raw.users) || raw.users.length === 0) {
    problem('users', 'must be a non-empty list of { user, password }');
  } else {
    raw.users.forEach((u, i) => {
      if (!isObject(u) || typeof u.user !== 'string' || u.user === '') {
        problem(`users[${i}].user`, 'must be a non-empty string');
        return;
      }
      const password = u.password ?? '';
      if (typeof password !== 'string' && typeof password !== 'number') {
        problem(`users[${i}].password`, 'must be a string');
        return;
      }
      if (u.requireTls !== undefined && typeof u.requireTls !== 'boolean') {
        problem(`users[${i}].requireTls`, 'must be true or false');
        return;
      }
      const plugin = u.plugin ?? 'mysql_native_password';
      if (plugin !== 'mysql_native_password' && plugin !== 'caching_sha2_password') {
        problem(`users[${i}].plugin`, "must be 'mysql_native_password' or 'caching_sha2_password'");
        return;
      }
      users.push({ user: u.user, password: String(password), requireTls: u.requireTls === true, plugin });
    });
  }

  const workload = raw.workload ?? 'oltp';
  if (workload !== 'oltp' && workload !== 'olap') problem('workload', "must be 'oltp' or 'olap'");
  const transactionMode = raw.transactionMode ?? 'multi';
  if (transactionMode !== 'single' && transactionMode !== 'multi') problem('transactionMode', "must be 'single' or 'multi'");
  const queryTimeoutMs = nonNegativeInt('queryTimeoutMs', raw.queryTimeoutMs ?? 0, problem);
  const transactionTimeoutMs = nonNegativeInt('transactionTimeoutMs', raw.transactionTimeoutMs ?? 0, problem);
  const maxMemoryRows = nonNegativeInt('maxMemoryRows', raw.maxMemoryRows ?? 300_000, problem);
  const poolSize = nonNegativeInt('poolSize', raw.poolSize ?? 8, problem);
  if (poolSize === 0) problem('poolSize', 'must be at least 1');
  const maxConnections = raw.maxConnections === undefined || raw.maxConnections === null ? undefined : nonNegativeInt('maxConnections', raw.maxConnections, problem);
  if (raw.maxConnections === 0) problem('maxConnections', 'must be at least 1 (leave it out for no limit)');
  const connectionIds = parseConnectionIds(raw.connectionIds, problem);

  let tls: GatewayConfig['tls'];
  if (raw.tls !== undefined && raw.tls !== null) {
    if (!isObject(raw.tls)) {
      problem('tls', 'must be a mapping { cert, key, ca? } of PEM file paths');
    } else {
      for (const key of Object.keys(raw.tls)) {
        if (key !== 'cert' && key !== 'key' && key !== 'ca') problem(`tls.${key}`, 'unknown key (known: cert, key, ca)');
      }
      const certFile = resolveFile('tls.cert', raw.tls.cert, true);
      const keyFile = resolveFile('tls.key', raw.tls.key, true);
      const caFile = resolveFile('tls.ca', raw.tls.ca, false);
      if (certFile !== undefined && keyFile !== undefined) tls = { certFile, keyFile, caFile };
    }
  }
  if (tls === undefined && users.some((u) => u.requireTls)) problem('users', 'a user with requireTls needs tls to be configured');

  const vschemaFile = resolveFile('vschema', raw.vschema, true) ?? '';
  const seedFile = resolveFile('seed', raw.seed, false);
  let dataDir: string | undefined;
  if (raw.dataDir !== undefined && raw.dataDir !== null) {
    if (typeof raw.dataDir !== 'string' || raw.dataDir === '') problem('dataDir', 'must be a folder path');
    else dataDir = path.resolve(dir, raw.dataDir);
  }
  const drainTimeoutMs = nonNegativeInt('drainTimeoutMs', raw.drainTimeoutMs ?? 10_000, problem);
  const slowQueryMs = nonNegativeInt('slowQueryMs', raw.slowQueryMs ?? 1_000, problem);

  const keyspaces = new Map<string, KeyspaceConfig>();
  if (!isObject(raw.keyspaces) || Object.keys(raw.keyspaces).length === 0) {
    problem('keyspaces', 'must map each keyspace name to { schema?, shards }');
  } else {
    for (const [name, ksRaw] of Object.entries(raw.keyspaces)) {
      const p = `keyspaces.${name}`;
      if (!isObject(ksRaw)) {
        problem(p, 'must be a mapping with shards (and optionally schema)');
        continue;
      }
      for (const key of Object.keys(ksRaw)) {
        if (key !== 'schema' && key !== 'shards') problem(`${p}.${key}`, 'unknown key (known: schema, shards)');
      }
      if (raw.dataDir !== undefined && (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..')) {
        problem(p, 'a keyspace name must be a plain folder name (letters, digits, _ . -) when dataDir is set');
      }
      const schemaFile = resolveFile(`${p}.schema`, ksRaw.schema, false);
      const shards = new Map<string, ShardSource>();
      if (!isObject(ksRaw.shards) || Object.keys(ksRaw.shards).length === 0) {
        problem(`${p}.shards`, 'must map shard names ("-80", "80-", or "0" when unsharded) to "local" or a mysql:// URL');
      } else {
        for (const [shard, source] of Object.entries(ksRaw.shards)) {
          const sp = `${p}.shards.${shard}`;
          if (!/^(0|-|[0-9a-fA-F]*-[0-9a-fA-F]*)$/.test(shard)) {
            problem(sp, 'is not a shard name: use a key range such as "-80", "80-", "40-80", or "0" for unsharded');
          }
          const parsed = parseShardSource(sp, source, name, problem);
          if (parsed) shards.set(shard, parsed);
        }
      }
      keyspaces.set(name, { name, schemaFile, shards });
    }
  }

  const planCache = parsePlanCache(raw.planCache, problem);
  // MariaDB's connect_timeout and net_read_timeout defaults.
  const connectTimeoutMs = nonNegativeInt('connectTimeoutMs', raw.connectTimeoutMs ?? 10_000, problem);
  if (raw.connectTimeoutMs === 0) problem('connectTimeoutMs', 'must be at least 1');
  const netReadTimeoutMs = nonNegativeInt('netReadTimeoutMs', raw.netReadTimeoutMs ?? 30_000, problem);
  if (raw.netReadTimeoutMs === 0) problem('netReadTimeoutMs', 'must be at least 1');
  // MariaDB's wait_timeout default (8 hours), in whole seconds as MariaDB counts it.
  const waitTimeoutMs = nonNegativeInt('waitTimeoutMs', raw.waitTimeoutMs ?? 28_800_000, problem);
  if (raw.waitTimeoutMs !== undefined && waitTimeoutMs < 1000) problem('waitTimeoutMs', 'must be at least 1000 (MariaDB counts wait_timeout in whole seconds)');
  const maxAllowedPacket = parseMaxAllowedPacket(raw.maxAllowedPacket, problem);
  const maxPacketMemory = parseMaxPacketMemory(raw.maxPacketMemory, problem);
  const planTimeoutMs = nonNegativeInt('planTimeoutMs', raw.planTimeoutMs ?? 5000, problem);
  if (planTimeoutMs === 0 && raw.planTimeoutMs !== undefined) problem('planTimeoutMs', 'must be at least 1');
  // Two workers fit the small machines the gateway runs on; misses beyond them queue.
  const planWorkers = nonNegativeInt('planWorkers', raw.planWorkers ?? 2, problem);
  // Workers start on demand; an idle one gives its memory (about 25 MB) back after this long.
  const planWorkerIdleMs = nonNegativeInt('planWorkerIdleMs', raw.planWorkerIdleMs ?? 30_000, problem);

  if (issues.length > 0) throw new ConfigError(file, issues);
  return {
    file,
    listen: { mysql, http },
    users,
    tls,
    workload: workload as Workload,
    transactionMode: transactionMode as TransactionMode,
    queryTimeoutMs,
    transactionTimeoutMs,
    maxMemoryRows,
    poolSize,
    vschemaFile,
    keyspaces,
    planCache,
    seedFile,
    dataDir,
    drainTimeoutMs,
    slowQueryMs,
    maxConnections,
    ...(connectionIds !== undefined ? { connectionIds } : {}),
    connectTimeoutMs,
    netReadTimeoutMs,
    waitTimeoutMs,
    maxAllowedPacket,
    maxPacketMemory,
    planTimeoutMs,
    planWorkers,
    planWorkerIdleMs,
  };
}

/** MariaDB's default max_allowed_packet. */
const DEFAULT_MAX_ALLOWED_PACKET = 16 * 1024 ** 2;
/** MariaDB's bounds for max_allowed_packet: 1 KiB to 1 GiB. */
const MAX_ALLOWED_PACKET_RANGE = [1024, 1024 ** 3] as const;

function parseMaxAllowedPacket(v: unknown, problem: Problem): number {
  if (v === undefined) return DEFAULT_MAX_ALLOWED_PACKET;
  const bytes = parseBytes(v);
  if (bytes === undefined || bytes < MAX_ALLOWED_PACKET_RANGE[0] || bytes > MAX_ALLOWED_PACKET_RANGE[1]) {
    problem('maxAllowedPacket', 'must be a size from 1KiB to 1GiB, such as 16MiB or a number of bytes');
    return DEFAULT_MAX_ALLOWED_PACKET;
  }
  return bytes;
}

/**
 * Default maxPacketMemory: sixteen statements of MariaDB's default max_allowed_packet at once. With
 * the 64 KiB every connection may hold outside it, 1,000 connections hold at most about 320 MiB.
 */
const DEFAULT_MAX_PACKET_MEMORY = 256 * 1024 ** 2;

function parseMaxPacketMemory(v: unknown, problem: Problem): number {
  if (v === undefined) return DEFAULT_MAX_PACKET_MEMORY;
  const bytes = parseBytes(v);
  if (bytes === undefined || bytes < 1024 ** 2 || bytes > 64 * 1024 ** 3) {
    problem('maxPacketMemory', 'must be a size from 1MiB to 64GiB, such as 256MiB or a number of bytes');
    return DEFAULT_MAX_PACKET_MEMORY;
  }
  return bytes;
}

type Problem = (path: string, message: string) => void;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `connectionIds: { first, last }`: ids a client connection may get (u32, never 0). */
function parseConnectionIds(v: unknown, problem: Problem): GatewayConfig['connectionIds'] {
  if (v === undefined || v === null) return undefined;
  const { first, last } = isObject(v) ? v : ({} as Record<string, unknown>);
  const isId = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= 0xffffffff;
  if (!isObject(v) || Object.keys(v).some((k) => k !== 'first' && k !== 'last') || !isId(first) || !isId(last) || first > last) {
    problem('connectionIds', 'must be { first: N, last: M } with 1 <= N <= M <= 4294967295');
    return undefined;
  }
  return { first, last };
}

function nonNegativeInt(p: string, v: unknown, problem: Problem): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    problem(p, 'must be a non-negative integer');
    return 0;
  }
  return v;
}

function parseAddress(p: string, v: unknown, problem: Problem): ListenAddress | undefined {
  if (typeof v === 'number') return checkPort(p, '127.0.0.1', v, problem);
  if (typeof v !== 'string') {
    problem(p, 'must be "host:port"');
    return undefined;
  }
  const idx = v.lastIndexOf(':');
  if (idx <= 0) {
    problem(p, `must be "host:port", got ${JSON.stringify(v)}`);
    return undefined;
  }
  return checkPort(p, v.slice(0, idx).replace(/^\[|\]$/g, ''), Number(v.slice(idx + 1)), problem);
}

function checkPort(p: string, host: string, port: number, problem: Problem): ListenAddress | undefined {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problem(p, `port must be an integer from 0 to 65535`);
    return undefined;
  }
  return { host, port };
}

function parseShardSource(p: string, v: unknown, keyspace: string, problem: Problem): ShardSource | undefined {
  if (v === 'local') return { kind: 'local' };
  if (typeof v !== 'string') {
    problem(p, 'must be "local" or a mysql://user:password@host:port/database URL');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    problem(p, 'must be "local" or a mysql://user:password@host:port/database URL');
    return undefined;
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    problem(p, `URL scheme must be mysql://, got ${url.protocol}//`);
    return undefined;
  }
  return {
    kind: 'remote',
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || keyspace,
  };
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** `32MiB` → 33554432. Also accepts plain numbers. */
export function parseBytes(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.floor(v);
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  if (!m) return undefined;
  const unit = BYTE_UNITS[m[2].toLowerCase()];
  return unit === undefined ? undefined : Math.floor(Number(m[1]) * unit);
}

function parsePlanCache(v: unknown, problem: Problem): PlanCacheConfig {
  const defaults: PlanCacheConfig = { variant: 'sharded', stripes: 16, maxCost: 32 * 1024 ** 2, maxEntries: 10_000 };
  if (v === undefined) return defaults;
  if (!isObject(v)) {
    problem('planCache', 'must be a mapping { variant, stripes, maxCost, maxEntries }');
    return defaults;
  }
  for (const key of Object.keys(v)) {
    if (!['variant', 'stripes', 'maxCost', 'maxEntries'].includes(key)) problem(`planCache.${key}`, 'unknown key (known: variant, stripes, maxCost, maxEntries)');
  }
  const variant = v.variant ?? defaults.variant;
  if (variant !== 'mutex' && variant !== 'sharded') problem('planCache.variant', "must be 'mutex' or 'sharded'");
  const stripes = v.stripes === undefined ? defaults.stripes : nonNegativeInt('planCache.stripes', v.stripes, problem);
  if (stripes === 0) problem('planCache.stripes', 'must be at least 1');
  const maxCost = v.maxCost === undefined ? defaults.maxCost : parseBytes(v.maxCost);
  if (maxCost === undefined) problem('planCache.maxCost', 'must be a size such as 32MiB or a number of bytes');
  const maxEntries = v.maxEntries === undefined ? defaults.maxEntries : nonNegativeInt('planCache.maxEntries', v.maxEntries, problem);
  return { variant: variant as PlanCacheConfig['variant'], stripes, maxCost: maxCost ?? defaults.maxCost, maxEntries };
}
