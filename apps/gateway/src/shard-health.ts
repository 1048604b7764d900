/**
 * Pings every shard on its own connection (not a pool connection, so a full pool does not make
 * a healthy shard look down) and keeps the last result for the status page.
 *
 * Concurrency rule: one ping per shard at a time (`inFlight`); results are written when a ping
 * settles, and readers copy.
 */
import mysql from 'mysql2/promise';
import type { ShardConnectionOptions } from '@shardgate/executor';

export interface ShardHealthState {
  readonly keyspace: string;
  readonly shard: string;
  up: boolean | null;
  lastPingAt: number | null;
  latencyMs: number | null;
  error: string | null;
}

const PING_TIMEOUT_MS = 2_000;

export class ShardHealth {
  private readonly states: ShardHealthState[] = [];
  private readonly conns = new Map<ShardHealthState, mysql.Connection | null>();
  private readonly inFlight = new Set<ShardHealthState>();
  private timer: NodeJS.Timeout | null = null;
  private readonly options = new Map<ShardHealthState, ShardConnectionOptions>();

  constructor(topology: Record<string, Record<string, ShardConnectionOptions>>) {
    for (const [keyspace, shards] of Object.entries(topology)) {
      for (const [shard, options] of Object.entries(shards)) {
        const state: ShardHealthState = { keyspace, shard, up: null, lastPingAt: null, latencyMs: null, error: null };
        this.states.push(state);
        this.options.set(state, options);
      }
    }
  }

  start(intervalMs = 5_000): void {
    this.timer = setInterval(() => void this.pingAll(), intervalMs);
    this.timer.unref();
    void this.pingAll();
  }

  snapshot(): ShardHealthState[] {
    return this.states.map((s) => ({ ...s }));
  }

  pingAll(): Promise<void> {
    return Promise.all(this.states.map((s) => this.ping(s))).then(() => undefined);
  }

  private async ping(state: ShardHealthState): Promise<void> {
    if (this.inFlight.has(state) || this.timer === null) return;
    this.inFlight.add(state);
    const started = performance.now();
    try {
      let conn = this.conns.get(state) ?? null;
      if (conn === null) {
        const o = this.options.get(state)!;
        conn = await mysql.createConnection({ host: o.host, port: o.port, user: o.user, password: o.password, connectTimeout: PING_TIMEOUT_MS });
        if (this.timer === null) {
          // stop() ran while connecting: nothing may outlive it.
          conn.destroy();
          return;
        }
        conn.on('error', () => this.conns.set(state, null));
        this.conns.set(state, conn);
      }
      await conn.query({ sql: 'SELECT 1', timeout: PING_TIMEOUT_MS });
      state.up = true;
      state.error = null;
      state.latencyMs = performance.now() - started;
    } catch (err) {
      state.up = false;
      state.error = (err as Error).message;
      state.latencyMs = null;
      this.conns.get(state)?.destroy();
      this.conns.set(state, null);
    } finally {
      state.lastPingAt = Date.now();
      this.inFlight.delete(state);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const conn of this.conns.values()) conn?.destroy();
    this.conns.clear();
  }
}
