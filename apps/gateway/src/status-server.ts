/**
 * The HTTP listener: the status page for people (status-page.ts), `/metrics` for Prometheus,
 * `/debug/status` and `/debug/query_plans` as JSON for scripts, and `/healthz` for load
 * balancers. Read-only: it never changes gateway state.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gateway } from './gateway.js';
import { renderStatusBody, renderStatusPage } from './status-page.js';

export class StatusServer {
  private readonly server: http.Server;

  constructor(private readonly gateway: Gateway) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: ${(err as Error).message}\n`);
      });
    });
    // Keep-alive sockets would hold close() open for the client's idle timeout.
    this.server.keepAliveTimeout = 1000;
  }

  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address() as AddressInfo;
        resolve({ host: addr.address, port: addr.port });
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** What /debug/status serves: the gateway's state as data. */
  snapshot(): Record<string, unknown> {
    const g = this.gateway;
    const topology: Record<string, Record<string, { host: string; port: number; database: string; local: boolean }>> = {};
    for (const [ks, shards] of Object.entries(g.topology)) {
      topology[ks] = {};
      for (const [shard, o] of Object.entries(shards)) {
        topology[ks][shard] = { host: o.host, port: o.port, database: o.database, local: o.local };
      }
    }
    const counts = g.metrics.counts();
    return {
      listen: g.addresses,
      connections: g.connectionCount,
      uptimeSeconds: Math.round((Date.now() - g.startedAt) / 1000),
      rssBytes: process.memoryUsage.rss(),
      keyspaces: topology,
      shardHealth: g.shardHealth(),
      planCache: g.planner?.cacheStats() ?? null,
      executor: g.executorStats(),
      metrics: { statements: counts.statements, statementErrors: counts.statementErrors, sessionsOpened: counts.sessionsOpened },
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    switch (url.pathname) {
      case '/healthz':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      case '/metrics': {
        const body = await this.gateway.metrics.render();
        res.writeHead(200, { 'content-type': this.gateway.metrics.contentType }).end(body);
        return;
      }
      case '/debug/status':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.snapshot(), jsonSafe, 2) + '\n');
        return;
      case '/debug/references': {
        // Compares every reference table's copies across shards (rows and CHECKSUM TABLE).
        const checks = await this.gateway.checkReferenceTables();
        const diverged = checks.some((c) => c.diverged);
        res.writeHead(diverged ? 409 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ diverged, tables: checks }, jsonSafe, 2) + '\n');
        return;
      }
      case '/debug/query_plans':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.gateway.planStats.top(100), jsonSafe, 2) + '\n');
        return;
      case '/':
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
          .end(url.searchParams.has('body') ? renderStatusBody(this.gateway) : renderStatusPage(this.gateway));
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  }
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}
