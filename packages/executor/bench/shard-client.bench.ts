/**
 * The shard side alone: gateway CPU to read a 1M-row result from one MariaDB through each shard
 * connector (mysql2 pool vs the protocol package's shard client, as rows and as the row packets an
 * OLAP route without a merge forwards), streamed into a consumer that does nothing, runs interleaved. CPU is this process's user + system time per row.
 *
 *   pnpm --filter @shardgate/executor exec tsx bench/shard-client.bench.ts      (ROWS=…, RUNS=…)
 */
import { LocalCluster } from '@shardgate/test-kit';
import { MysqlShardConnector, type ShardConnector } from '../src/shard-pool.js';
import { WireShardConnector } from '../src/wire-shard-connector.js';
import type { RowPacketTarget } from '../src/row-packets.js';

const ROWS = Number(process.env.ROWS ?? 1_000_000);
const RUNS = Number(process.env.RUNS ?? 3);

async function streamOnce(c: ShardConnector, packets: boolean): Promise<{ cpuNsPerRow: number; ms: number }> {
  const conn = await c.acquire();
  const cpu = process.cpuUsage();
  const t = performance.now();
  let n = 0;
  // As packets: what an OLAP route that needs no merge hands the client's sink (row-packets.ts).
  const rowPacketTarget: RowPacketTarget | undefined = packets
    ? {
        packets: (_buf, _start, _end, count) => ((n += count), true),
        row: () => (n++, true),
        drain: () => Promise.resolve(),
      }
    : undefined;
  await conn.stream(`select seq, seq * 7, concat('name-', seq) from seq_1_to_${ROWS}`, { fields: () => {}, rows: (rows) => void (n += rows.length), rowPacketTarget });
  const used = process.cpuUsage(cpu);
  const ms = performance.now() - t;
  await conn.release();
  if (n !== ROWS) throw new Error(`got ${n} rows`);
  return { cpuNsPerRow: ((used.user + used.system) * 1000) / ROWS, ms };
}

async function main(): Promise<void> {
  const cluster = await LocalCluster.start({ shards: ['s'], schema: [] });
  try {
    const o = cluster.shards[0].connectionOptions() as { host: string; port: number; user: string; password?: string; database: string };
    const options = { host: o.host, port: o.port, user: o.user, password: o.password ?? '', database: o.database };
    const wire = new WireShardConnector('ks', 's', options, 1);
    const connectors: [string, ShardConnector, boolean][] = [
      ['mysql2 pool', new MysqlShardConnector('ks', 's', options, 1), false],
      ['shard client, rows', wire, false],
      ['shard client, row packets', wire, true],
    ];
    for (const [, c] of connectors) if (c !== wire) await c.start();
    await wire.start();
    console.log(`${ROWS} rows of (bigint, bigint, varchar) streamed from one MariaDB, ${RUNS} interleaved runs`);
    for (let i = 0; i < RUNS; i++) {
      for (const [name, c, packets] of connectors) {
        const r = await streamOnce(c, packets);
        console.log(`run ${i + 1} ${name}: ${r.cpuNsPerRow.toFixed(0)} ns CPU per row, ${(ROWS / (r.ms / 1000)).toFixed(0)} rows/s`);
      }
    }
    for (const [, c] of connectors) await c.close();
  } finally {
    await cluster.stop();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
