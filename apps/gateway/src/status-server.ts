/**
 * The HTTP listener: a status page for people, `/metrics` for Prometheus, `/debug/status` as JSON
 * and `/healthz` for load balancers. Read-only: it never changes gateway state.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gateway } from './gateway.js';

export class StatusServer {
  private readonly server: http.Server;

  constructor(private readonly gateway: Gateway) {
    this.server = http.createServer((req, res) => {
      try {
        this.handle(req, res);
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`internal error: ${(err as Error).message}\n`);
      }
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

  /** Everything the page, JSON and metrics show, gathered in one place. */
  snapshot(): Record<string, unknown> {
    const g = this.gateway;
    const topology: Record<string, Record<string, { host: string; port: number; database: string; local: boolean }>> = {};
    for (const [ks, shards] of Object.entries(g.topology)) {
      topology[ks] = {};
      for (const [shard, o] of Object.entries(shards)) {
        topology[ks][shard] = { host: o.host, port: o.port, database: o.database, local: o.local };
      }
    }
    return {
      listen: g.addresses,
      connections: g.connectionCount,
      uptimeSeconds: Math.round(process.uptime()),
      rssBytes: process.memoryUsage.rss(),
      keyspaces: topology,
      planCache: g.planner?.cacheStats() ?? null,
      executor: g.executorStats(),
      metrics: {
        queries: g.metrics.queries,
        queryErrors: g.metrics.queryErrors,
        sessionsOpened: g.metrics.sessionsOpened,
        sessionsClosed: g.metrics.sessionsClosed,
      },
    };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    switch (url.pathname) {
      case '/healthz':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      case '/metrics':
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.gateway.metrics.render(this.extraMetrics()));
        return;
      case '/debug/status':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.snapshot(), jsonSafe, 2) + '\n');
        return;
      case '/':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(this.page());
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  }

  private extraMetrics(): string[] {
    const lines: string[] = [];
    const gauge = (name: string, help: string, samples: [string, number][]): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
    };
    gauge('shardgate_client_connections', 'Open client connections.', [['', this.gateway.connectionCount]]);
    const cache = this.gateway.planner?.cacheStats() as Record<string, unknown> | undefined;
    if (cache) {
      const samples: [string, number][] = [];
      for (const [k, v] of Object.entries(cache)) if (typeof v === 'number') samples.push([`{stat="${k}"}`, v]);
      gauge('shardgate_plan_cache', 'Plan cache statistics (hits, misses, evictions, entries, cost…).', samples);
    }
    const flat = flattenNumbers(this.gateway.executorStats() ?? {});
    if (flat.length > 0) {
      gauge('shardgate_executor', 'Executor statistics (pools, sessions, queries by variant…).', flat.map(([k, v]) => [`{stat="${k}"}`, v]));
    }
    return lines;
  }

  private page(): string {
    const s = this.snapshot();
    const esc = (v: unknown): string => String(v).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const rows = Object.entries(s.keyspaces as Record<string, Record<string, { host: string; port: number; database: string; local: boolean }>>)
      .flatMap(([ks, shards]) =>
        Object.entries(shards).map(
          ([shard, o]) => `<tr><td>${esc(ks)}</td><td>${esc(shard)}</td><td>${esc(o.host)}:${esc(o.port)}</td><td>${esc(o.database)}</td><td>${o.local ? 'local' : 'remote'}</td></tr>`,
        ),
      )
      .join('');
    return `<!doctype html><html><head><meta charset="utf-8"><title>shardgate</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}pre{background:#f6f6f6;padding:1em}</style></head>
<body><h1>shardgate</h1>
<p>MySQL on <code>${esc(JSON.stringify((s.listen as { mysql: unknown } | null)?.mysql ?? null))}</code> · ${esc(s.connections)} client connection(s) · up ${esc(s.uptimeSeconds)} s · RSS ${esc(Math.round((s.rssBytes as number) / 1048576))} MiB</p>
<h2>Shards</h2><table><tr><th>keyspace</th><th>shard</th><th>address</th><th>database</th><th>kind</th></tr>${rows}</table>
<h2>Plan cache</h2><pre>${esc(JSON.stringify(s.planCache, jsonSafe, 2))}</pre>
<h2>Executor</h2><pre>${esc(JSON.stringify(s.executor, jsonSafe, 2))}</pre>
<p><a href="/metrics">/metrics</a> · <a href="/debug/status">/debug/status</a> · <a href="/healthz">/healthz</a></p>
</body></html>`;
  }
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}

function flattenNumbers(value: unknown, prefix = ''): [string, number][] {
  if (typeof value === 'number') return [[prefix, value]];
  if (typeof value === 'bigint') return [[prefix, Number(value)]];
  if (value instanceof Map) value = Object.fromEntries(value);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => flattenNumbers(v, prefix ? `${prefix}.${k}` : k));
}
