/**
 * Rows a statement holds at the gateway against a point-select probe: while one client runs a
 * statement whose rows the gateway merges, groups, deduplicates or sorts itself (the shards'
 * results read whole, then worked on with no I/O in between), another reads one row every 5 ms
 * on its own thread (test/support/stall-probe.ts). Per statement, the probe's worst round trip
 * over ROUNDS rounds, and the statement's median time through the gateway and on one plain MariaDB
 * holding the same rows (whose answers must be the same).
 *
 *   pnpm --filter @shardgate/gateway exec tsx bench/held-rows-stall.ts
 *   ROWS=150000 ROUNDS=3 ONLY='union' pnpm --filter @shardgate/gateway exec tsx bench/held-rows-stall.ts
 *
 * Prints a table for BENCHMARKS.md; it does not write it.
 */
import { startStallGateway } from '../test/support/stall-gateway.js';
import { answer, StallProbe } from '../test/support/stall-probe.js';

const ROWS = Number(process.env.ROWS ?? 150_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
/** ONLY=regex runs the matching statements only. */
const ONLY = process.env.ONLY ? new RegExp(process.env.ONLY, 'i') : undefined;

const STATEMENTS = [
  'select name, count(*) c from customer group by name order by c desc, name',
  'select distinct name from customer',
  'select name, count(*) c from customer group by name',
  'select id, name from customer order by name',
  'select id, name from customer',
  'select name from customer where id <= 40000 union all select name from customer where id > 110000 order by name',
];

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const setup = await startStallGateway('sg-held-rows-', { planTimeoutMs: 60000, maxMemoryRows: 400000 });
  const probe = await StallProbe.start(setup.clientOptions);
  try {
    for (let first = 1; first <= ROWS; first += 5000) {
      const values = Array.from({ length: Math.min(5000, ROWS - first + 1) }, (_, i) => `(${first + i},'n${((first + i) * 7919) % 1000003}')`).join(',');
      await setup.client.query(`insert into customer (id, name) values ${values}`);
      await setup.reference.query(`insert into customer (id, name) values ${values}`);
    }
    console.log(`${ROWS.toLocaleString('en-US')} rows over 2 shards, ${ROUNDS} rounds, the worst kept\n`);
    console.log('| statement | probe worst (ms) | probes | gateway, median (ms) | MariaDB, median (ms) | same |');
    console.log('| --- | ---: | ---: | ---: | ---: | --- |');
    for (const sql of STATEMENTS.filter((q) => ONLY === undefined || ONLY.test(q))) {
      let worst = 0;
      let probes = 0;
      const gatewayMs: number[] = [];
      const mariadbMs: number[] = [];
      let same = true;
      for (let r = 0; r < ROUNDS; r++) {
        await probe.take();
        const got = await answer(setup.client, sql);
        const w = await probe.take();
        if (w.failures.length > 0) throw new Error(`probe failed during ${sql}: ${w.failures[0]}`);
        const expected = await answer(setup.reference, sql);
        if (Math.max(...w.latencies) > worst) {
          worst = Math.max(...w.latencies);
          probes = w.latencies.length;
        }
        gatewayMs.push(got.ms);
        mariadbMs.push(expected.ms);
        same &&= JSON.stringify(got.kind === 'result' ? got.rows : got) === JSON.stringify(expected.kind === 'result' ? expected.rows : expected);
      }
      console.log(`| \`${sql}\` | ${worst.toFixed(1)} | ${probes} | ${median(gatewayMs).toFixed(0)} | ${median(mariadbMs).toFixed(0)} | ${same ? 'yes' : 'no'} |`);
    }
  } finally {
    await probe.stop();
    await setup.stop();
  }
}

await main();
