/**
 * The status page's HTML, rendered on the server from live gateway state: the topology with
 * each shard's health and pool usage (bars), statements per second and latency over the last
 * ten minutes (inline SVG charts), the top query plans by total time (as Vitess's
 * /debug/query_plans), plan-cache statistics, the vschema and recent errors. A small script
 * re-fetches the page body every two seconds, so the page follows the gateway without a reload.
 */
import type { Gateway } from './gateway.js';
import { BUCKET_SECONDS, type ActivityBucket } from './recent-activity.js';

const esc = (v: unknown): string => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function ago(ms: number | null, now: number): string {
  if (ms === null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 2 ? 'just now' : `${s} s ago`;
}

function duration(seconds: number): string {
  if (seconds < 0.001) return `${(seconds * 1e6).toFixed(0)} µs`;
  if (seconds < 1) return `${(seconds * 1000).toFixed(1)} ms`;
  return `${seconds.toFixed(2)} s`;
}

function uptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}

/** A line chart as inline SVG; `values` oldest first. */
function chart(title: string, values: readonly number[], format: (v: number) => string, color: string): string {
  const w = 560;
  const h = 120;
  const pad = { l: 56, r: 8, t: 8, b: 20 };
  const max = Math.max(...values, 0);
  const top = max > 0 ? niceCeil(max) : 1;
  const x = (i: number): number => pad.l + (i * (w - pad.l - pad.r)) / Math.max(1, values.length - 1);
  const y = (v: number): number => pad.t + (h - pad.t - pad.b) * (1 - v / top);
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const area = `${pad.l},${y(0)} ${points} ${x(values.length - 1).toFixed(1)},${y(0)}`;
  const minutes = Math.round((values.length * BUCKET_SECONDS) / 60);
  const grid = [0, 0.5, 1]
    .map((f) => `<line x1="${pad.l}" x2="${w - pad.r}" y1="${y(top * f)}" y2="${y(top * f)}" class="grid"/><text x="${pad.l - 6}" y="${y(top * f) + 4}" text-anchor="end">${esc(format(top * f))}</text>`)
    .join('');
  return `<figure class="chart"><figcaption>${esc(title)} <span class="muted">(now ${esc(format(values[values.length - 1] ?? 0))})</span></figcaption>
<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(title)}">${grid}
<polygon points="${area}" fill="${color}" fill-opacity="0.15"/><polyline points="${points}" fill="none" stroke="${color}" stroke-width="1.5"/>
<text x="${pad.l}" y="${h - 4}">${minutes} min ago</text><text x="${w - pad.r}" y="${h - 4}" text-anchor="end">now</text></svg></figure>`;
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function bar(used: number, size: number, waiting: number): string {
  const pct = size > 0 ? Math.min(100, (used / size) * 100) : 0;
  const cls = pct >= 100 ? 'full' : pct >= 75 ? 'high' : '';
  return `<div class="bar" title="${used} of ${size} in use${waiting ? `, ${waiting} waiting` : ''}"><div class="fill ${cls}" style="width:${pct.toFixed(0)}%"></div></div><span class="muted">${used}/${size}${waiting ? ` · <b>${waiting} waiting</b>` : ''}</span>`;
}

/** The page body (also served alone, for the refresh script). */
export function renderStatusBody(g: Gateway): string {
  const now = Date.now();
  const stats = g.executorStats();
  const pools = new Map((stats?.pools ?? []).map((p) => [`${p.keyspace}/${p.shard}`, p]));
  const health = new Map(g.shardHealth().map((h) => [`${h.keyspace}/${h.shard}`, h]));
  const mysql = g.addresses?.mysql;
  const durable = g.config.dataDir !== undefined;

  const topologyRows = Object.entries(g.topology)
    .flatMap(([ks, shards]) =>
      Object.entries(shards).map(([shard, o]) => {
        const h = health.get(`${ks}/${shard}`);
        const p = pools.get(`${ks}/${shard}`);
        const state = h?.up === true ? '<span class="up">up</span>' : h?.up === false ? `<span class="down" title="${esc(h.error ?? '')}">down</span>` : '<span class="muted">…</span>';
        const kind = o.local ? (durable ? 'local, durable' : 'local, temporary') : 'remote';
        return `<tr><td>${esc(ks)}</td><td><code>${esc(shard)}</code></td><td>${state}</td><td>${esc(ago(h?.lastPingAt ?? null, now))}</td><td class="num">${h?.latencyMs != null ? esc(h.latencyMs.toFixed(1) + ' ms') : '–'}</td><td><code>${esc(o.host)}:${esc(o.port)}</code></td><td>${esc(o.database)}</td><td>${esc(kind)}</td><td class="pool">${p ? bar(p.inUse, p.size, p.waiting) : '–'}</td></tr>`;
      }),
    )
    .join('');

  const buckets: ActivityBucket[] = g.activity.buckets();
  const qps = buckets.map((b) => b.statements / b.span);
  const latencyMs = buckets.map((b) => (b.statements > 0 ? (b.seconds / b.statements) * 1000 : 0));

  const plans = g.planStats.top(20);
  const planRows = plans
    .map(
      (p) =>
        `<tr><td class="query"><code>${esc(p.query)}</code></td><td>${esc(p.planType)}</td><td>${esc(p.keyspace)}</td><td class="num">${p.executions}</td><td class="num">${esc(duration(p.totalSeconds))}</td><td class="num">${esc(duration(p.totalSeconds / p.executions))}</td><td class="num">${p.rows}</td><td class="num">${p.errors > 0 ? `<b class="down">${p.errors}</b>` : 0}</td></tr>`,
    )
    .join('');

  const cache = g.planner?.cacheStats();
  const lookups = cache ? cache.hits + cache.misses : 0;
  const cacheRows = cache
    ? [
        ['hit ratio', lookups > 0 ? `${((cache.hits / lookups) * 100).toFixed(1)} %` : '–'],
        ['hits', cache.hits],
        ['misses', cache.misses],
        ['plans cached', `${cache.entries} of ${g.config.planCache.maxEntries}`],
        ['size', `${(cache.cost / 1024).toFixed(0)} KiB of ${(g.config.planCache.maxCost / 1048576).toFixed(0)} MiB`],
        ['evictions', cache.evictions],
        ['epoch', cache.epoch],
        ['variant', `${g.config.planCache.variant}${g.config.planCache.variant === 'sharded' ? `, ${g.config.planCache.stripes} stripes` : ''}`],
      ]
        .map(([k, v]) => `<tr><th>${esc(k)}</th><td class="num">${esc(v)}</td></tr>`)
        .join('')
    : '';

  const vschemaRows = g.vschema
    ? [...g.vschema.keyspaces.values()]
        .flatMap((ks) => {
          const tables = [...ks.tables.values()];
          if (tables.length === 0) return [`<tr><td>${esc(ks.name)}</td><td>${ks.sharded ? 'sharded' : 'unsharded'}</td><td class="muted" colspan="3">no tables declared</td></tr>`];
          return tables.map(
            (t) =>
              `<tr><td>${esc(ks.name)}</td><td>${ks.sharded ? 'sharded' : 'unsharded'}</td><td>${esc(t.name)}</td><td>${esc(t.type)}</td><td>${t.columnVindexes.map((cv, i) => `${i === 0 ? '<b>' : ''}${esc(cv.columns.join(', '))} → ${esc(cv.name)} (${esc(cv.vindex.type)})${i === 0 ? '</b>' : ''}`).join('<br>') || '–'}</td></tr>`,
          );
        })
        .join('')
    : '';

  const errors = g.activity.recentErrors().slice(0, 20);
  const errorRows = errors
    .map((e) => `<tr><td>${esc(ago(e.at, now))}</td><td class="num">${e.errno}</td><td>${esc(e.message)}</td><td class="query"><code>${esc(e.query)}</code></td></tr>`)
    .join('');

  const counts = g.metrics.counts();
  return `<header><h1>shardgate</h1><p>
MySQL on <code>${esc(mysql ? `${mysql.host}:${mysql.port}` : '–')}</code> ·
<span id="connections">${g.connectionCount}</span> client connection(s) ·
<span id="transactions">${g.openTransactions()}</span> open transaction(s) ·
<span id="statements">${counts.statements}</span> statement(s) (${counts.statementErrors} failed) ·
up ${esc(uptime(now - g.startedAt))} · RSS ${Math.round(process.memoryUsage.rss() / 1048576)} MiB ·
workload ${esc(g.config.workload)}${g.config.dataDir ? '' : ' · <b class="warn">local shard data is temporary</b>'}</p></header>
<section><h2>Topology</h2><table id="topology"><thead><tr><th>keyspace</th><th>shard</th><th>health</th><th>last ping</th><th>ping latency</th><th>address</th><th>database</th><th>kind</th><th>pool in use</th></tr></thead><tbody>${topologyRows}</tbody></table></section>
<section><h2>Traffic, last ${Math.round((buckets.length * BUCKET_SECONDS) / 60)} minutes</h2><div class="charts">
${chart('Statements per second', qps, (v) => (v >= 10 ? v.toFixed(0) : v.toFixed(1)), '#2563eb')}
${chart('Mean statement latency', latencyMs, (v) => `${v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2)} ms`, '#c2410c')}
</div></section>
<section><h2>Top query plans by total time</h2>${planRows ? `<table id="plans"><thead><tr><th>normalized query</th><th>plan</th><th>keyspace</th><th>executions</th><th>total time</th><th>mean</th><th>rows</th><th>errors</th></tr></thead><tbody>${planRows}</tbody></table>` : '<p class="muted">No query planned yet.</p>'}</section>
<div class="two"><section><h2>Plan cache</h2><table id="plan-cache">${cacheRows}</table></section>
<section><h2>Recent errors</h2>${errorRows ? `<table id="errors"><thead><tr><th>when</th><th>errno</th><th>message</th><th>query</th></tr></thead><tbody>${errorRows}</tbody></table>` : '<p class="muted" id="errors">No errors.</p>'}</section></div>
<section><h2>VSchema</h2><p class="muted">${esc(g.config.vschemaFile)}, loaded ${esc(ago(g.vschemaLoadedAt, now))} (send SIGHUP or edit the file to reload)</p><table id="vschema"><thead><tr><th>keyspace</th><th>kind</th><th>table</th><th>type</th><th>vindexes (primary first)</th></tr></thead><tbody>${vschemaRows}</tbody></table></section>
<footer class="muted"><a href="/metrics">/metrics</a> · <a href="/debug/status">/debug/status</a> · <a href="/healthz">/healthz</a> · refreshed ${new Date(now).toISOString().slice(11, 19)} UTC</footer>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2937;background:#f8fafc}
main{max-width:1200px;margin:0 auto;padding:16px 24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:20px 0 8px;color:#111827}
header p{margin:0;color:#4b5563}
section{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:4px 14px 12px;margin-top:14px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #f1f5f9;vertical-align:top}
thead th{font-weight:600;color:#6b7280;font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.query code{white-space:pre-wrap;word-break:break-all;font-size:12px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
.up{color:#15803d;font-weight:600}.down{color:#b91c1c;font-weight:600}.warn{color:#b45309}.muted{color:#6b7280}
.bar{display:inline-block;width:120px;height:10px;background:#e5e7eb;border-radius:5px;overflow:hidden;vertical-align:middle;margin-right:6px}
.fill{height:100%;background:#22c55e}.fill.high{background:#f59e0b}.fill.full{background:#ef4444}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{margin:0}.chart figcaption{font-weight:600;margin-bottom:4px}
svg text{font-size:10px;fill:#6b7280}svg .grid{stroke:#e5e7eb}
.two{display:grid;grid-template-columns:minmax(260px,1fr) 2fr;gap:14px}.two section{margin-top:14px}
footer{margin:16px 0}a{color:#2563eb}`;

export function renderStatusPage(g: Gateway): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>shardgate status</title><style>${STYLE}</style></head>
<body><main id="status">${renderStatusBody(g)}</main>
<script>
// Follow the gateway: swap in a fresh body every 2 s (no reload, no flicker, scroll kept).
setInterval(async () => {
  try {
    const r = await fetch('/?body=1', { cache: 'no-store' });
    if (r.ok) document.getElementById('status').innerHTML = await r.text();
  } catch {}
}, 2000);
</script></body></html>`;
}
