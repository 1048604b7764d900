/**
 * The shard pool of the query path, over @shardgate/mysql-protocol's ShardClient: rows arrive as
 * their packet bytes and each cell is a view into them (no string, number or copy per cell), and
 * column metadata is converted once per distinct shape. KILL QUERY goes through ShardKiller.
 *
 * Cells are text-protocol bytes exactly as the shard sent them, as with the mysql2 pool
 * (`typeCast: false`): BIGINT, DECIMAL and DATETIME are never rounded or reformatted.
 */
import { ShardClient, decodeTextRow, type ClientConnectionError, type EofPacket, type OkPacket, type QueryReceiver, type ServerError } from '@shardgate/mysql-protocol';
import { ExecutorError, ER_NOT_SUPPORTED_YET, toShardError } from './errors.js';
import { CheckedOutConnection, knownCollation, toWarnings } from './checked-out-connection.js';
import type { Warning } from './query-context.js';
import { RawFieldInfoCache } from './field-cache.js';
import { offAbort as unhookAbort, onAbort as hookAbort } from './abort-hooks.js';
import { parseOkInfo, readSessionBaseline, type ShardConnection, type ShardConnector, type ShardQueryObserver, type ShardResult, type StatementOptions, type StreamHandlers } from './shard-pool.js';
import { ShardKiller } from './shard-killer.js';
import { withRowPackets, type RowPacketTarget, type RowPacketWalker, type RowPackets } from './row-packets.js';
import type { FieldInfo, PoolStats, Row, ShardConnectionOptions } from './types.js';

/** Rows per chunk at most when streaming; chunks are also cut at every network read. */
const MAX_CHUNK_ROWS = 256;
/**
 * How many of the most recently idled clients queryOnce looks through for one already in the
 * statement's collation (sessions of differently configured clients then rarely cost a SET).
 */
const COLLATION_AFFINITY_SCAN = 4;
/** SERVER_MORE_RESULTS_EXISTS. */
const MORE_RESULTS = 0x8;

const EMPTY_FIELDS: readonly FieldInfo[] = Object.freeze([]);
const EMPTY_ROWS: readonly Row[] = Object.freeze([]);

interface Waiter {
  /** Set once the caller got a client or an error (or gave up); a settled waiter is never served. */
  settled: boolean;
  resolve(client: ShardClient): void;
  reject(err: unknown): void;
}

/**
 * A pool of ShardClients for one shard.
 *
 * Concurrency rule: `idle`, `waiters`, `open` and `inUse` are touched only synchronously (in
 * acquire, in a connect's settlement, in give back / drop, and in an idle client's close
 * listener). A client is in exactly one place: `idle`, a caller's hands, or being connected
 * (counted in `open` only). A waiter is removed from `waiters` before it is settled.
 */
export class WireShardConnector implements ShardConnector {
  readonly size: number;
  /** Column metadata of this shard's results (see RawFieldInfoCache). */
  readonly fieldInfos: RawFieldInfoCache;
  private readonly killer: ShardKiller;
  private readonly idle: ShardClient[] = [];
  private readonly waiters: Waiter[] = [];
  /** Clients that exist or are connecting (≤ size). */
  private open = 0;
  private inUse = 0;
  private extendedMetadata = false;
  private baseline = '';
  private started = false;
  private closed = false;

  constructor(
    readonly keyspace: string,
    readonly shard: string,
    private readonly options: ShardConnectionOptions,
    defaultPoolSize: number,
  ) {
    this.size = options.poolSize ?? defaultPoolSize;
    this.fieldInfos = new RawFieldInfoCache(keyspace, () => this.extendedMetadata, options.database);
    this.killer = new ShardKiller(options);
  }

  async start(): Promise<void> {
    this.started = true;
    this.baseline = await readSessionBaseline(this, this.options);
  }

  /** The statement that puts a connection's session variables back to what a fresh one has. */
  get resetStatement(): string {
    return this.baseline;
  }

  acquire(signal?: AbortSignal, waitLimit?: AbortSignal): Promise<ShardConnection> {
    if (!this.started || this.closed) {
      return Promise.reject(new ExecutorError(2006, 'HY000', `shard ${this.keyspace}/${this.shard}: executor is not started or already closed`));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (waitLimit?.aborted) return Promise.reject(waitLimit.reason);
    const client = this.takeIdle();
    if (client !== null) {
      this.inUse++;
      return Promise.resolve(new WireShardConnection(this, client));
    }
    return new Promise<ShardConnection>((resolve, reject) => {
      const unhook = () => {
        if (signal) unhookAbort(signal, onAbort);
        if (waitLimit) unhookAbort(waitLimit, onWaitLimit);
      };
      const waiter: Waiter = {
        settled: false,
        resolve: (c) => {
          waiter.settled = true;
          unhook();
          this.inUse++;
          resolve(new WireShardConnection(this, c));
        },
        reject: (err) => {
          waiter.settled = true;
          unhook();
          reject(err);
        },
      };
      const giveUp = (reason: unknown) => {
        if (waiter.settled) return;
        // Still queued, or waiting for a client being opened for it (which then serves the next).
        const i = this.waiters.indexOf(waiter);
        if (i !== -1) this.waiters.splice(i, 1);
        waiter.reject(reason);
      };
      const onAbort = () => giveUp(signal!.reason);
      const onWaitLimit = () => giveUp(waitLimit!.reason);
      if (signal) hookAbort(signal, onAbort);
      if (waitLimit) hookAbort(waitLimit, onWaitLimit);
      this.waiters.push(waiter);
      this.serveWaiters();
    });
  }

  queryOnce(sql: string, signal: AbortSignal, collation?: string, observer?: ShardQueryObserver, startedAt = 0): Promise<ShardResult> {
    const client = this.started && !this.closed && !signal.aborted ? (this.takeIdleIn(collation) ?? this.takeIdle()) : null;
    if (client === null) return observed(this.acquireQueryRelease(sql, signal, collation), observer, startedAt);
    this.inUse++;
    return new WireShardConnection(this, client).query(sql, { signal, collation }, true, observer, startedAt);
  }

  /** queryOnce when no client is idle: wait for one like any caller of acquire(). */
  private async acquireQueryRelease(sql: string, signal: AbortSignal, collation: string | undefined): Promise<ShardResult> {
    const conn = await this.acquire(signal);
    try {
      return await conn.query(sql, { signal, collation });
    } finally {
      await conn.release(false);
    }
  }

  /**
   * One of the last few idle clients that already runs in `collation` (it is taken out of the idle
   * list, whose last entry fills its place), or null.
   */
  private takeIdleIn(collation: string | undefined): ShardClient | null {
    if (collation === undefined) return null;
    const idle = this.idle;
    const last = idle.length - 1;
    for (let i = last; i >= 0 && i > last - COLLATION_AFFINITY_SCAN; i--) {
      const c = idle[i]!;
      if (!c.usable || knownCollation(c) !== collation) continue;
      idle[i] = idle[last]!;
      idle.pop();
      return c;
    }
    return null;
  }

  /** An idle client that is still usable, or null. */
  private takeIdle(): ShardClient | null {
    while (this.idle.length > 0) {
      const c = this.idle.pop()!;
      if (c.usable) return c;
      this.open--;
    }
    return null;
  }

  /** Hands idle clients to waiters, and opens new ones while the pool has room. */
  private serveWaiters(): void {
    while (this.waiters.length > 0) {
      const c = this.takeIdle();
      if (c !== null) {
        this.waiters.shift()!.resolve(c);
        continue;
      }
      if (this.open >= this.size || this.closed) return;
      this.open++;
      const waiter = this.waiters.shift()!;
      this.connect().then(
        (client) => {
          if (this.closed) {
            this.open--;
            client.destroy();
            if (!waiter.settled) waiter.reject(new ExecutorError(2006, 'HY000', `shard ${this.keyspace}/${this.shard}: executor is closed`));
            return;
          }
          // The waiter may have given up meanwhile: then the client serves the next one (or idles).
          if (waiter.settled) this.giveBack(client);
          else waiter.resolve(client);
        },
        (err) => {
          this.open--;
          if (!waiter.settled) waiter.reject(toShardError(err, this.keyspace, this.shard));
          this.serveWaiters();
        },
      );
    }
  }

  private async connect(): Promise<ShardClient> {
    const o = this.options;
    const client = new ShardClient({ host: o.host, port: o.port, user: o.user, password: o.password, database: o.database, connectTimeoutMs: 10_000 });
    await client.connect();
    this.extendedMetadata = client.extendedMetadata;
    // A client that dies while idle leaves the pool at once (a dead one is also skipped at takeIdle).
    client.onClose(() => {
      const i = this.idle.indexOf(client);
      if (i !== -1) {
        this.idle.splice(i, 1);
        this.open--;
        this.serveWaiters();
      }
    });
    return client;
  }

  /** A connection handed back healthy: to the first waiter, else idle. */
  giveBack(client: ShardClient): void {
    if (this.closed || !client.usable) {
      this.drop(client);
      return;
    }
    const w = this.waiters.shift();
    if (w !== undefined) w.resolve(client);
    else this.idle.push(client);
  }

  /** A connection that must not be reused. */
  drop(client: ShardClient): void {
    client.destroy();
    this.open--;
    this.serveWaiters();
  }

  connectionReturned(): void {
    this.inUse--;
  }

  kill(threadId: number): Promise<void> {
    return this.killer.kill(threadId);
  }

  stats(): PoolStats {
    return { keyspace: this.keyspace, shard: this.shard, size: this.size, open: this.open, inUse: this.inUse, idle: this.idle.length, waiting: this.waiters.length };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.killer.close();
    const waiters = this.waiters.splice(0);
    for (const w of waiters) w.reject(new ExecutorError(2006, 'HY000', `shard ${this.keyspace}/${this.shard}: executor is closed`));
    const idle = this.idle.splice(0);
    this.open -= idle.length;
    for (const c of idle) c.quit();
  }
}

/** What the connection keeps of a ServerError / ClientConnectionError. */
type ClientError = ServerError | ClientConnectionError;

function cellText(c: Uint8Array | null | undefined): string {
  return c === null || c === undefined ? '' : Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('utf8');
}

function okResult(ok: OkPacket): ShardResult {
  const info = ok.info !== '' ? ok.info : undefined;
  return { isResultSet: false, fields: EMPTY_FIELDS, rows: EMPTY_ROWS, affectedRows: ok.affectedRows, insertId: ok.lastInsertId, warningCount: ok.warnings, info, counts: parseOkInfo(info) };
}

function multipleResults(): ExecutorError {
  return new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'This version of shardgate does not yet support a shard statement that returns several results');
}

/**
 * Where a result's rows are, as the socket delivered them: `count` whole one-packet rows, headers
 * included, in `buf[start, end)`; or, with `count` -1, one row's payload `buf[start, end)` (a row
 * sent in several packets, copied out whole by the client).
 */
interface RowRun {
  readonly buf: Buffer;
  readonly start: number;
  readonly end: number;
  readonly count: number;
}

/**
 * A result set read whole, its rows kept as the runs of packets the socket delivered and decoded
 * when read: `rows` decodes them all the first time (what most consumers do), rowAt() one at a
 * time (MergeSort under a Limit decodes only the rows it compares, not the whole of every shard's
 * reply). Decoding allocates an array and one view per cell, the largest allocation of a scatter
 * statement. The per-row packet list (`packets`) is built once, at its exact size, when first
 * read: recording a row costs nothing while the reply arrives (one run per socket read).
 * Concurrency rule: built once the reply is complete; `warnings` is set before the result is
 * handed on; `decoded` and `rowPackets` are filled at most once, synchronously, by whoever reads
 * `rows` / `packets` (or rowAt) first; rowAt() never touches `decoded` (its caller keeps what it
 * decoded).
 */
class BufferedRows implements ShardResult {
  readonly isResultSet = true;
  readonly affectedRows = 0n;
  readonly insertId = 0n;
  warnings?: readonly Warning[];
  private decoded: Row[] | null = null;
  private rowPackets: { readonly sources: Buffer[]; readonly bounds: number[] } | null = null;

  constructor(
    readonly fields: readonly FieldInfo[],
    private readonly columnCount: number,
    private readonly runs: readonly RowRun[],
    readonly rowCount: number,
    readonly warningCount: number,
  ) {}

  /** Row i's payload is `sources[i][bounds[2i], bounds[2i+1])`. */
  get packets(): { readonly sources: Buffer[]; readonly bounds: number[] } {
    if (this.rowPackets === null) {
      const n = this.rowCount;
      const sources: Buffer[] = new Array(n);
      const bounds: number[] = new Array(2 * n);
      let i = 0;
      for (const run of this.runs) {
        const buf = run.buf;
        if (run.count < 0) {
          sources[i] = buf;
          bounds[2 * i] = run.start;
          bounds[2 * i + 1] = run.end;
          i++;
          continue;
        }
        for (let p = run.start, k = 0; k < run.count; k++, i++) {
          const payload = p + 4;
          p = payload + (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16));
          sources[i] = buf;
          bounds[2 * i] = payload;
          bounds[2 * i + 1] = p;
        }
      }
      this.rowPackets = { sources, bounds };
    }
    return this.rowPackets;
  }

  get rows(): readonly Row[] {
    if (this.decoded === null) {
      const n = this.rowCount;
      const rows: Row[] = new Array(n);
      for (let i = 0; i < n; i++) rows[i] = this.rowAt(i);
      this.decoded = rows;
    }
    return this.decoded;
  }

  rowAt(i: number): Row {
    const { sources, bounds } = this.packets;
    return decodeTextRow(sources[i], this.columnCount, bounds[2 * i], bounds[2 * i + 1]);
  }

  packetWalker(): RowPacketWalker {
    return new ReplyPacketWalker(this.runs, this);
  }
}

/**
 * Walks a reply's runs packet by packet, in order (BufferedRows.packetWalker); a seek elsewhere
 * reads the reply's packet list instead, from then on.
 * Concurrency rule: owned by one reader, which calls seek() synchronously.
 */
class ReplyPacketWalker implements RowPacketWalker {
  source: Buffer = EMPTY_BUFFER;
  start = 0;
  end = 0;
  /** The row sought last; -2 once the walker reads the packet list (`all`). */
  private row = -1;
  private run = -1;
  /** Where the next packet of the current run starts (its header), and how many are left. */
  private next = 0;
  private left = 0;

  constructor(
    private readonly runs: readonly RowRun[],
    private readonly all: { readonly packets: RowPackets },
  ) {}

  seek(i: number): void {
    if (i === this.row) return;
    if (i !== this.row + 1 || this.row === -2) {
      this.row = -2;
      const p = this.all.packets;
      this.source = p.sources[i] as Buffer;
      this.start = p.bounds[2 * i];
      this.end = p.bounds[2 * i + 1];
      return;
    }
    this.row = i;
    if (this.left === 0) {
      let r: RowRun;
      do r = this.runs[++this.run];
      while (r.count === 0);
      this.source = r.buf;
      if (r.count < 0) {
        // A row of several packets, its payload copied out whole.
        this.start = r.start;
        this.end = r.end;
        return;
      }
      this.next = r.start;
      this.left = r.count;
    }
    const buf = this.source;
    const p = this.next;
    this.start = p + 4;
    this.end = this.next = p + 4 + (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16));
    this.left--;
  }
}

const EMPTY_BUFFER = Buffer.alloc(0);

/** The runs of a statement before its columns arrive (every result starts with them). */
const NO_RUNS: RowRun[] = Object.freeze([]) as unknown as RowRun[];

/**
 * The receiver that buffers one statement's reply, and the promise of its result. With
 * `releaseAfter` (queryOnce) the connection goes back to its pool once the reply is read, before
 * the promise settles, as `release(false)` would; synchronously unless the statement was killed.
 *
 * One object with methods, not a receiver of closures: this runs for every shard statement, and
 * the ten closures per statement it replaced showed in a point select's profile.
 * Concurrency rule: owned by one statement; the client calls it synchronously from its socket
 * events, one command at a time, and the abort hook runs synchronously from the signal.
 */
class BufferedStatement implements QueryReceiver {
  readonly result: Promise<ShardResult>;
  private resolveResult!: (result: ShardResult) => void;
  private rejectResult!: (err: unknown) => void;
  private cancelGrace: (() => void) | null = null;
  private settled = false;
  private fields: readonly FieldInfo[] = EMPTY_FIELDS;
  private columnCount = 0;
  private runs: RowRun[] = NO_RUNS;
  private rowCount = 0;
  private multi = false;
  /** Hooked on the signal until the statement is done, its warnings read too. */
  private readonly onAbort = (): void => {
    this.cancelGrace = this.conn.statementAborted();
  };

  constructor(
    private readonly conn: WireShardConnection,
    private readonly fieldInfos: RawFieldInfoCache,
    private readonly signal: AbortSignal | undefined,
    private readonly wantsWarnings: boolean,
    private readonly releaseAfter: boolean,
    private readonly observer?: ShardQueryObserver,
    private readonly startedAt = 0,
  ) {
    this.result = new Promise<ShardResult>((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    if (signal) hookAbort(signal, this.onAbort);
  }

  columns(defs: readonly Buffer[]): void {
    this.fields = this.fieldInfos.convert(defs);
    this.columnCount = defs.length;
    this.runs = [];
    this.rowCount = 0;
  }

  /** Only where the rows are, one entry per socket read: decoded when someone reads them (BufferedRows). */
  rowPackets(buf: Buffer, start: number, end: number, count: number, kept: boolean): void {
    // Bytes in the client's shared read buffer are copied out (as the client copies any read it keeps).
    this.runs.push(kept ? { buf, start, end, count } : { buf: Buffer.from(buf.subarray(start, end)), start: 0, end: end - start, count });
    this.rowCount += count;
  }

  /** A row that came in several packets (16 MiB or more), its payload copied out whole. */
  row(buf: Buffer, start: number, end: number): void {
    this.runs.push({ buf, start, end, count: -1 });
    this.rowCount++;
  }

  end(eof: EofPacket): void {
    if (eof.statusFlags & MORE_RESULTS) this.multi = true;
    else if (this.multi) this.finish(multipleResults());
    else this.done(new BufferedRows(this.fields, this.columnCount, this.runs, this.rowCount, eof.warnings));
  }

  ok(ok: OkPacket): void {
    if (ok.statusFlags & MORE_RESULTS) this.multi = true;
    else if (this.multi) this.finish(multipleResults());
    else this.done(okResult(ok));
  }

  error(err: ClientError): void {
    this.finish(err);
  }

  private done(r: ShardResult): void {
    if (r.warningCount === 0 || !this.wantsWarnings) return this.finish(null, r);
    void this.conn.warningsOfLastStatement().then((warnings) => {
      // Set before the result is handed to anyone (a spread would decode every row).
      if (r instanceof BufferedRows) r.warnings = warnings;
      else r = { ...r, warnings };
      this.finish(null, r);
    });
  }

  private finish(err: unknown, result?: ShardResult): void {
    if (this.signal) unhookAbort(this.signal, this.onAbort);
    this.cancelGrace?.();
    if (this.settled) return;
    this.settled = true;
    // statementFailure retires the connection on a fatal error, before it is handed back.
    const failure = err ? this.conn.statementFailure(err, this.signal) : null;
    if (!this.releaseAfter || this.conn.releaseAfterStatement()) return this.settle(failure, result);
    void this.conn.release(false).then(() => this.settle(failure, result));
  }

  private settle(failure: unknown, result?: ShardResult): void {
    const failed = failure !== null || this.signal?.aborted === true;
    if (failure === null && failed) failure = this.signal!.reason;
    this.observer?.shardQuerySettled(this.startedAt, failed, failure);
    if (failed) return this.rejectResult(failure);
    this.resolveResult(result!);
  }
}

/** `p`, with `observer` told of its outcome (the paths of queryOnce that build no BufferedStatement). */
function observed(p: Promise<ShardResult>, observer: ShardQueryObserver | undefined, startedAt: number): Promise<ShardResult> {
  if (observer === undefined) return p;
  return p.then(
    (r) => {
      observer.shardQuerySettled(startedAt, false, undefined);
      return r;
    },
    (err: unknown) => {
      observer.shardQuerySettled(startedAt, true, err);
      throw err;
    },
  );
}

/** One client checked out of a WireShardConnector (see CheckedOutConnection for the rules). */
class WireShardConnection extends CheckedOutConnection {
  constructor(
    private readonly connector: WireShardConnector,
    protected readonly client: ShardClient,
  ) {
    super(connector);
  }

  get threadId(): number {
    return this.client.threadId;
  }

  protected destroySocket(): void {
    this.client.destroy();
  }

  protected handBack(broken: boolean): void {
    if (broken) this.connector.drop(this.client);
    else this.connector.giveBack(this.client);
  }

  /** `observer` (queryOnce's) hears of the statement's end before its promise settles. */
  query(sql: string, opts?: StatementOptions, releaseAfter = false, observer?: ShardQueryObserver, startedAt = 0): Promise<ShardResult> {
    const signal = opts?.signal;
    if (signal?.aborted) {
      if (releaseAfter) return observed(this.release(false).then(() => Promise.reject(signal.reason)), observer, startedAt);
      return observed(Promise.reject(signal.reason), observer, startedAt);
    }
    const checking = this.lateKillChecked();
    if (checking !== null) return checking.then(() => this.query(sql, opts, releaseAfter, observer, startedAt));
    const switching = this.collationSwitch(opts?.collation);
    if (switching !== null) {
      return switching.then(
        () => this.query(sql, { signal }, releaseAfter, observer, startedAt),
        (err: unknown) => observed(releaseAfter ? this.release(false).then(() => Promise.reject(err)) : Promise.reject(err), observer, startedAt),
      );
    }
    const st = new BufferedStatement(this, this.connector.fieldInfos, signal, true, releaseAfter, observer, startedAt);
    this.client.query(sql, st);
    return st.result;
  }

  queryObserved(sql: string, opts: StatementOptions | undefined, observer: ShardQueryObserver, startedAt: number): Promise<ShardResult> {
    return this.query(sql, opts, false, observer, startedAt);
  }

  /**
   * The statements written to the shard in one write and run in order (see
   * ShardClient.queryPipelined): one result per statement. Only the last statement's warnings are
   * read (each statement clears the ones before it on the server); earlier results keep only their
   * warning count.
   */
  queryPipelined(sqls: readonly string[], opts?: StatementOptions): Promise<ShardResult>[] {
    const signal = opts?.signal;
    if (signal?.aborted) return sqls.map(() => Promise.reject(signal.reason));
    const checking = this.lateKillChecked();
    if (checking !== null) {
      const all = checking.then(() => this.queryPipelined(sqls, opts));
      return sqls.map((_, i) => all.then((results) => results[i]!));
    }
    const switching = this.collationSwitch(opts?.collation);
    if (switching !== null) {
      // Rare (the session changed its collation, or the client is fresh): one round trip first.
      const all = switching.then(() => this.queryPipelined(sqls, { signal }));
      return sqls.map((_, i) => all.then((results) => results[i]!));
    }
    const sts = sqls.map((_, i) => new BufferedStatement(this, this.connector.fieldInfos, signal, i === sqls.length - 1, false));
    this.client.queryPipelined(sqls.map((sql, i) => ({ sql, receiver: sts[i] })));
    return sts.map((st) => st.result);
  }

  // ---- what a BufferedStatement asks of its connection (the protected rules of CheckedOutConnection)

  /** The statement's signal aborted: KILL QUERY, and the abandon timer (its cancel function). */
  statementAborted(): () => void {
    this.kill();
    return this.abandonAfterGrace();
  }

  /** The error a failed statement rejects with (see CheckedOutConnection.fail). */
  statementFailure(err: unknown, signal: AbortSignal | undefined): unknown {
    return this.fail(err, signal);
  }

  /** release(false) now if nothing needs waiting for (see CheckedOutConnection.releaseNow). */
  releaseAfterStatement(): boolean {
    return this.releaseNow();
  }

  /** The last statement's warnings (see readWarnings). */
  warningsOfLastStatement(): Promise<Warning[]> {
    return this.readWarnings();
  }

  /**
   * The last statement's warnings, read before the connection runs anything else (the client runs
   * a connection's commands in order). A failure loses only the warnings, never the statement's
   * result: the statement did run; a fatal failure still keeps the connection out of the pool.
   */
  protected readWarnings(): Promise<Warning[]> {
    return new Promise((resolve) => {
      const rows: Row[] = [];
      let n = 0;
      this.client.query('SHOW WARNINGS', {
        columns: (defs) => (n = defs.length),
        row: (buf, start, end) => rows.push(decodeTextRow(buf, n, start, end)),
        end: (eof) => {
          if ((eof.statusFlags & MORE_RESULTS) === 0) resolve(toWarnings(rows, cellText));
        },
        ok: () => resolve([]),
        error: (err) => {
          if (err.fatal) this.broken = true;
          resolve([]);
        },
      });
    });
  }

  stream(sql: string, handlers: StreamHandlers, opts?: StatementOptions): Promise<void> {
    const signal = opts?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const checking = this.lateKillChecked();
    if (checking !== null) return checking.then(() => this.stream(sql, handlers, opts));
    const switching = this.collationSwitch(opts?.collation);
    if (switching !== null) return switching.then(() => this.stream(sql, handlers, { signal }));
    if (handlers.rowPacketTarget !== undefined) return this.forwardStream(sql, handlers, handlers.rowPacketTarget, signal);
    const client = this.client;
    return new Promise((resolve, reject) => {
      let buffer: Row[] = [];
      let sources: Buffer[] = [];
      let bounds: number[] = [];
      let flushScheduled = false;
      /** The chunk the consumer is working on; the client is paused until it settles. */
      let pending: Promise<void> = Promise.resolve();
      let stopError: unknown = null;
      let ended = false;
      let columnCount = 0;
      let multi = false;
      let cancelGrace: (() => void) | null = null;
      const stop = (err: unknown) => {
        if (stopError !== null) return;
        stopError = err;
        buffer = [];
        sources = [];
        bounds = [];
        this.kill();
        cancelGrace = this.abandonAfterGrace();
        // Read (and drop) whatever the shard still sends, until it ends the killed statement.
        client.resume();
      };
      const onAbort = () => stop(signal!.reason);
      if (signal) hookAbort(signal, onAbort);
      const flush = () => {
        flushScheduled = false;
        if (stopError !== null || buffer.length === 0) return;
        const rows = withRowPackets(buffer, sources, bounds);
        buffer = [];
        sources = [];
        bounds = [];
        client.pause();
        pending = Promise.resolve()
          .then(() => handlers.rows(rows))
          .then(
            () => {
              if (stopError === null && !ended) client.resume();
            },
            (err) => stop(err),
          );
      };
      const end = (queryError: unknown, warningCount: number) => {
        if (ended) return;
        ended = true;
        flush();
        void pending.then(() => {
          cancelGrace?.();
          if (signal) unhookAbort(signal, onAbort);
          // The client may still be paused by the last chunk: it must read the next command's reply.
          client.resume();
          this.settleStream(stopError, queryError, warningCount, signal, handlers, resolve, reject);
        });
      };
      const receiver: QueryReceiver = {
        columns: (defs) => {
          columnCount = defs.length;
          if (stopError !== null || multi) return;
          try {
            handlers.fields(this.connector.fieldInfos.convert(defs));
          } catch (err) {
            stop(err);
          }
        },
        row: (buf, start, end) => {
          if (stopError !== null || multi) return;
          buffer.push(decodeTextRow(buf, columnCount, start, end));
          sources.push(buf);
          bounds.push(start, end);
          if (buffer.length >= MAX_CHUNK_ROWS) flush();
          else if (!flushScheduled) {
            flushScheduled = true;
            queueMicrotask(flush);
          }
        },
        end: (eof) => {
          if (eof.statusFlags & MORE_RESULTS) multi = true;
          else end(multi ? multipleResults() : null, eof.warnings);
        },
        ok: (ok) => {
          if (ok.statusFlags & MORE_RESULTS) multi = true;
          else end(multi ? multipleResults() : null, ok.warnings);
        },
        error: (err) => end(err, 0),
      };
      client.query(sql, receiver);
    });
  }

  /**
   * stream() with the rows going to `target` as the shard's packets, in runs as the socket
   * delivered them (ShardClient's rowPackets): no row, cell or chunk object per row. A row that
   * came in several packets goes through target.row(), in its place, so a single shard's order
   * is kept. When the target's client is full the shard client pauses
   * (its socket too, so the shard blocks on its own send buffer) until target.drain() settles.
   * The EOF or ERR ends the stream as in stream(): the gateway writes its own end of the result.
   */
  private forwardStream(sql: string, handlers: StreamHandlers, target: RowPacketTarget, signal: AbortSignal | undefined): Promise<void> {
    const client = this.client;
    return new Promise((resolve, reject) => {
      let stopError: unknown = null;
      let ended = false;
      let waitingForDrain = false;
      let columnCount = 0;
      let multi = false;
      let cancelGrace: (() => void) | null = null;
      const stop = (err: unknown) => {
        if (stopError !== null || ended) return;
        stopError = err;
        this.kill();
        cancelGrace = this.abandonAfterGrace();
        // Read (and drop) whatever the shard still sends, until it ends the killed statement.
        client.resume();
      };
      const onAbort = () => stop(signal!.reason);
      if (signal) hookAbort(signal, onAbort);
      const resumeAfterDrain = () => {
        waitingForDrain = false;
        if (stopError === null && !ended) client.resume();
      };
      const drainFailed = (err: unknown) => {
        waitingForDrain = false;
        stop(err);
      };
      const full = () => {
        if (waitingForDrain) return;
        waitingForDrain = true;
        client.pause();
        target.drain().then(resumeAfterDrain, drainFailed);
      };
      const end = (queryError: unknown, warningCount: number) => {
        if (ended) return;
        ended = true;
        cancelGrace?.();
        if (signal) unhookAbort(signal, onAbort);
        // The client may still be paused for a drain: it must read the next command's reply.
        client.resume();
        this.settleStream(stopError, queryError, warningCount, signal, handlers, resolve, reject);
      };
      const receiver: QueryReceiver = {
        columns: (defs) => {
          columnCount = defs.length;
          if (stopError !== null || multi) return;
          try {
            handlers.fields(this.connector.fieldInfos.convert(defs));
          } catch (err) {
            stop(err);
          }
        },
        rowPackets: (buf, start, end, count) => {
          if (stopError !== null || multi) return;
          if (!target.packets(buf, start, end, count)) full();
        },
        row: (buf, start, end) => {
          if (stopError !== null || multi) return;
          if (!target.row(buf, start, end, decodeTextRow(buf, columnCount, start, end))) full();
        },
        end: (eof) => {
          if (eof.statusFlags & MORE_RESULTS) multi = true;
          else end(multi ? multipleResults() : null, eof.warnings);
        },
        ok: (ok) => {
          if (ok.statusFlags & MORE_RESULTS) multi = true;
          else end(multi ? multipleResults() : null, ok.warnings);
        },
        error: (err) => end(err, 0),
      };
      client.query(sql, receiver);
    });
  }

  protected simpleQuery(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let failed = false;
      this.client.query(sql, {
        columns: () => {},
        row: () => {},
        end: (eof) => {
          if ((eof.statusFlags & MORE_RESULTS) === 0 && !failed) resolve();
        },
        ok: (ok) => {
          if ((ok.statusFlags & MORE_RESULTS) === 0) resolve();
        },
        error: (err) => {
          failed = true;
          reject(err);
        },
      });
    });
  }
}
