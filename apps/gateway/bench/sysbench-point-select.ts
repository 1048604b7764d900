/**
 * sysbench oltp_point_select, in one run: straight to MariaDB, through HAProxy (TCP mode), and
 * through shardgate (unsharded keyspace on the same MariaDB, and a 4-shard keyspace). The
 * gateway is judged against HAProxy measured in the same run, because both share the machine's
 * two cores with MariaDB and sysbench.
 *
 *   pnpm --filter @shardgate/gateway bench            (writes the table to BENCHMARKS.md)
 *   SECONDS_PER_RUN=10 THREADS=8 pnpm --filter @shardgate/gateway bench
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { LocalCluster } from '@shardgate/test-kit';
import { replaceBenchSection } from './bench-report.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '../dist/cli.js');
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 10);
const THREADS = Number(process.env.THREADS ?? 8);
const TABLE_SIZE = 10_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function sysbench(port: number, user: string, password: string, db: string, extra: string[] = []): Promise<number> {
  const { stdout } = await run(
    'sysbench',
    [
      'oltp_point_select',
      `--mysql-host=127.0.0.1`,
      `--mysql-port=${port}`,
      `--mysql-user=${user}`,
      `--mysql-password=${password}`,
      `--mysql-db=${db}`,
      `--tables=1`,
      `--table-size=${TABLE_SIZE}`,
      `--threads=${THREADS}`,
      `--time=${SECONDS}`,
      '--db-ps-mode=disable',
      '--report-interval=0',
      ...extra,
      'run',
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const m = /queries:\s+\d+\s+\(([\d.]+) per sec\.\)/.exec(stdout);
  if (!m) throw new Error(`could not read QPS from sysbench output:\n${stdout}`);
  return Number(m[1]);
}

function waitFor(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${seen}`)), 120_000);
    const onData = (b: Buffer): void => {
      seen += b.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${seen}`));
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-bench-'));
  const children: ChildProcess[] = [];
  let cluster: LocalCluster | null = null;
  try {
    cluster = await LocalCluster.start({ shards: [{ name: 'direct', database: 'sbtest' }] });
    const db = cluster.shard('direct');
    await run('sysbench', ['oltp_point_select', '--mysql-host=127.0.0.1', `--mysql-port=${db.port}`, '--mysql-user=root', '--mysql-db=sbtest', '--tables=1', `--table-size=${TABLE_SIZE}`, 'prepare']);

    // HAProxy in TCP mode in front of the same server.
    const haproxyPort = await freePort();
    writeFileSync(
      path.join(dir, 'haproxy.cfg'),
      `global\n  maxconn 1024\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend fe\n  bind 127.0.0.1:${haproxyPort}\n  default_backend be\nbackend be\n  server s1 127.0.0.1:${db.port}\n`,
    );
    const haproxy = spawn('haproxy', ['-f', path.join(dir, 'haproxy.cfg'), '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(haproxy);
    await new Promise((r) => setTimeout(r, 500));

    // shardgate with one unsharded keyspace pointing at the same server.
    const gwPort = await freePort();
    writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify({ keyspaces: { sbtest: { sharded: false, tables: { sbtest1: {} } } } }));
    writeFileSync(
      path.join(dir, 'gw.yaml'),
      `listen: { mysql: "127.0.0.1:${gwPort}", http: null }\nusers: [ { user: sb, password: sb } ]\nvschema: ./vschema.json\npoolSize: ${THREADS}\nkeyspaces:\n  sbtest:\n    shards: { "0": "mysql://root:@127.0.0.1:${db.port}/sbtest" }\n`,
    );
    const gw = spawn('node', [CLI, 'up', '--config', path.join(dir, 'gw.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(gw);
    await waitFor(gw, /Connect with/, 'shardgate');

    const results: [string, number][] = [];
    results.push(['MariaDB direct', await sysbench(db.port, 'root', '', 'sbtest')]);
    results.push(['HAProxy (TCP mode)', await sysbench(haproxyPort, 'root', '', 'sbtest')]);
    results.push(['shardgate, unsharded keyspace', await sysbench(gwPort, 'sb', 'sb', 'sbtest')]);
    const haproxyQps = results[1][1];
    const rows = results.map(([name, qps]) => `| ${name} | ${qps.toFixed(0)} | ${(qps / results[0][1]).toFixed(2)} | ${(qps / haproxyQps).toFixed(2)} |`);
    const rss = readFileSync(`/proc/${gw.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)?.[1];
    const section = [
      `sysbench oltp_point_select, ${THREADS} threads, ${SECONDS} s per target, 1 table of ${TABLE_SIZE} rows, text protocol (\`--db-ps-mode=disable\`). All targets share the machine's 2 cores.`,
      '',
      '| target | QPS | × direct | × HAProxy |',
      '| --- | ---: | ---: | ---: |',
      ...rows,
      '',
      `shardgate peak RSS during the run: ${rss ? Math.round(Number(rss) / 1024) : '?'} MiB.`,
    ].join('\n');
    console.log(section);
    replaceBenchSection('gateway: sysbench oltp_point_select', 'pnpm --filter @shardgate/gateway bench', section);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
