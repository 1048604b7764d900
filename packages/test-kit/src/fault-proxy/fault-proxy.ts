import { connect, createServer, type Server, type Socket } from 'node:net';
import { seededRandom } from '../race/seeded-random.js';

export interface FaultProxyOptions {
  target: { host: string; port: number };
  /** Port to listen on (127.0.0.1); default: a free one. */
  listenPort?: number;
  /** Seed for latency jitter, so a flaky-looking run can be reproduced (default 1). */
  seed?: number;
}

/** Faults in force; read by every connection each time data arrives. */
interface FaultState {
  latencyMs: number;
  jitterMs: number;
  bytesPerSecond: number | null;
  resetAfterBytes: number | null;
  blackhole: boolean;
  refuseNew: boolean;
}

const NO_FAULTS: FaultState = {
  latencyMs: 0,
  jitterMs: 0,
  bytesPerSecond: null,
  resetAfterBytes: null,
  blackhole: false,
  refuseNew: false,
};

// Stop reading from a side once this much is waiting to be delayed/throttled towards the other.
const HIGH_WATER_BYTES = 1 << 20;

/**
 * A TCP proxy between a MySQL client and a server that injects network faults at run time:
 * latency with jitter, a bandwidth cap, connection resets after N bytes, closes, a black hole and
 * refused connections. Faults apply to existing and new connections alike, and clear() restores a
 * clean pipe so tests can check recovery.
 *
 * Concurrency rule: all state is owned by the event loop thread; fault setters take effect for the
 * next chunk each connection sees (data already scheduled keeps its release time).
 */
export class FaultProxy {
  private faults: FaultState = { ...NO_FAULTS };
  /** Live proxied connections. Concurrency rule: added on accept, removed on close (both sync). */
  private readonly connections = new Set<ProxiedConnection>();
  private readonly random: () => number;
  private listening = true;
  private stopped = false;

  private constructor(
    private server: Server,
    readonly port: number,
    readonly target: { host: string; port: number },
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  readonly host = '127.0.0.1';

  static async start(opts: FaultProxyOptions): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = createServer((client) => proxy?.accept(client));
    const port = await listen(server, opts.listenPort ?? 0);
    // Copy host and port explicitly: a LocalShard exposes them as getters, which spreading would drop.
    proxy = new FaultProxy(server, port, { host: opts.target.host, port: opts.target.port }, opts.seed ?? 1);
    return proxy;
  }

  /** Number of client connections currently proxied. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Delay every chunk in both directions by ms, plus up to jitterMs more (order is preserved). */
  setLatency(ms: number, jitterMs = 0): void {
    this.faults.latencyMs = Math.max(0, ms);
    this.faults.jitterMs = Math.max(0, jitterMs);
  }

  /** Cap each direction of each connection at this many bytes per second; null removes the cap. */
  setBandwidth(bytesPerSecond: number | null): void {
    if (bytesPerSecond !== null && !(bytesPerSecond > 0)) throw new RangeError('bytesPerSecond must be > 0 or null');
    this.faults.bytesPerSecond = bytesPerSecond;
  }

  /** Every connection (now open or opened later) is reset with a TCP RST after forwarding this many more bytes. */
  resetAfter(bytes: number): void {
    this.faults.resetAfterBytes = Math.max(0, bytes);
    for (const c of this.connections) c.armReset(this.faults.resetAfterBytes);
  }

  /** Closes every open connection now (FIN to the client, upstream destroyed). New ones are still accepted. */
  closeNow(): void {
    for (const c of this.connections) c.close();
  }

  /** While on, connections are accepted but nothing is forwarded or answered in either direction. */
  blackhole(on: boolean): void {
    this.faults.blackhole = on;
  }

  /** While on, the proxy stops listening, so new connections get ECONNREFUSED; open ones keep working. */
  async refuseNew(on: boolean): Promise<void> {
    this.faults.refuseNew = on;
    if (this.stopped) return;
    if (on && this.listening) {
      this.listening = false;
      // close() stops accepting at once; its callback waits for open connections, which stay up.
      this.server.close();
    } else if (!on && !this.listening) {
      const server = createServer((client) => this.accept(client));
      await listen(server, this.port);
      this.server = server;
      this.listening = true;
    }
  }

  /** Removes every fault. Open connections keep whatever state earlier faults left them in. */
  async clear(): Promise<void> {
    const wasRefusing = this.faults.refuseNew;
    this.faults = { ...NO_FAULTS, refuseNew: wasRefusing };
    for (const c of this.connections) c.armReset(null);
    await this.refuseNew(false);
  }

  /** Stops listening and destroys every connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const c of this.connections) c.destroy();
    if (this.listening) {
      this.listening = false;
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
  }

  private accept(client: Socket): void {
    if (this.stopped) {
      client.destroy();
      return;
    }
    const conn = new ProxiedConnection(client, this.target, () => this.faults, this.random, () => this.connections.delete(conn));
    this.connections.add(conn);
    conn.armReset(this.faults.resetAfterBytes);
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, () => {
      server.removeListener('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/** One client connection and its upstream connection, with a delayed/throttled pipe each way. */
class ProxiedConnection {
  private readonly upstream: Socket;
  private readonly toServer: DelayedPipe;
  private readonly toClient: DelayedPipe;
  /** Bytes still allowed before a reset; null = no reset armed. */
  private resetBudget: number | null = null;
  private closed = false;

  constructor(
    private readonly client: Socket,
    target: { host: string; port: number },
    faults: () => FaultState,
    random: () => number,
    private readonly onClosed: () => void,
  ) {
    this.upstream = connect({ host: target.host, port: target.port });
    client.setNoDelay(true);
    this.upstream.setNoDelay(true);
    const forward = (bytes: number) => this.consumeBudget(bytes);
    this.toServer = new DelayedPipe(client, this.upstream, faults, random, forward);
    this.toClient = new DelayedPipe(this.upstream, client, faults, random, forward);
    // Either side going away takes the other with it; errors are expected here (that is the point).
    client.on('error', () => this.destroy());
    this.upstream.on('error', () => this.destroy());
    client.on('close', () => this.destroy());
    this.upstream.on('close', () => this.close());
  }

  armReset(bytes: number | null): void {
    this.resetBudget = bytes;
    if (bytes === 0) this.reset();
  }

  /** Returns how many of `bytes` may be forwarded; triggers the RST once the budget is spent. */
  private consumeBudget(bytes: number): number {
    if (this.resetBudget === null) return bytes;
    const allowed = Math.min(bytes, this.resetBudget);
    this.resetBudget -= allowed;
    if (this.resetBudget === 0) queueMicrotask(() => this.reset());
    return allowed;
  }

  reset(): void {
    if (this.closed) return;
    this.closed = true;
    this.toServer.dispose();
    this.toClient.dispose();
    this.upstream.destroy();
    this.onClosed();
    // An RST sent in the same instant as the last forwarded bytes reaches a Linux client as a plain
    // EOF (it sees "connection lost", not ECONNRESET); a few ms later it is a reliable ECONNRESET.
    setTimeout(() => {
      if (!this.client.destroyed) this.client.resetAndDestroy();
    }, 5).unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.toServer.dispose();
    this.toClient.dispose();
    this.client.end();
    // Don't wait for a FIN-ACK dance from a possibly black-holed client.
    setTimeout(() => this.client.destroy(), 1_000).unref();
    this.upstream.destroy();
    this.onClosed();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.toServer.dispose();
    this.toClient.dispose();
    this.client.destroy();
    this.upstream.destroy();
    this.onClosed();
  }
}

/**
 * Forwards src → dst, applying latency, jitter and the bandwidth cap per chunk.
 * Concurrency rule: `queue` is ordered by release time and drained by one timer at a time.
 */
class DelayedPipe {
  private readonly queue: { data: Buffer; releaseAt: number }[] = [];
  private queuedBytes = 0;
  private lastReleaseAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly faults: () => FaultState,
    private readonly random: () => number,
    private readonly budget: (bytes: number) => number,
  ) {
    src.on('data', (chunk: Buffer) => this.onData(chunk));
    dst.on('drain', () => {
      if (this.queuedBytes < HIGH_WATER_BYTES) src.resume();
    });
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.queue.length = 0;
  }

  private onData(chunk: Buffer): void {
    if (this.disposed) return;
    const f = this.faults();
    if (f.blackhole) return; // swallowed: never forwarded, never answered
    const now = Date.now();
    const delay = f.latencyMs + (f.jitterMs > 0 ? this.random() * f.jitterMs : 0);
    if (delay === 0 && f.bytesPerSecond === null && this.queue.length === 0) {
      this.write(chunk);
      return;
    }
    // Split so a bandwidth cap trickles data out instead of releasing it in one burst.
    const piece = f.bytesPerSecond === null ? chunk.length : Math.max(1, Math.floor(f.bytesPerSecond / 20));
    for (let offset = 0; offset < chunk.length; offset += piece) {
      const data = chunk.subarray(offset, offset + piece);
      const transmitMs = f.bytesPerSecond === null ? 0 : (data.length / f.bytesPerSecond) * 1000;
      const releaseAt = Math.max(now + delay, this.lastReleaseAt) + transmitMs;
      this.lastReleaseAt = releaseAt;
      this.queue.push({ data, releaseAt });
      this.queuedBytes += data.length;
    }
    if (this.queuedBytes >= HIGH_WATER_BYTES) this.src.pause();
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0 || this.disposed) return;
    const wait = Math.max(0, this.queue[0].releaseAt - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = Date.now();
      while (this.queue.length > 0 && this.queue[0].releaseAt <= now && !this.disposed) {
        const { data } = this.queue.shift()!;
        this.queuedBytes -= data.length;
        this.write(data);
      }
      if (this.queuedBytes < HIGH_WATER_BYTES && this.src.isPaused()) this.src.resume();
      this.schedule();
    }, wait);
  }

  private write(data: Buffer): void {
    if (this.disposed || this.dst.destroyed) return;
    const allowed = this.budget(data.length);
    if (allowed === 0) return;
    if (!this.dst.write(allowed === data.length ? data : data.subarray(0, allowed))) this.src.pause();
  }
}
