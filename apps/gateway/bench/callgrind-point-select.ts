/**
 * Instructions per point select, counted by valgrind's callgrind, which load does not change: the
 * plain Node relay (bench/tcp-relay.mjs) and one or two gateway builds each run under callgrind
 * against one real MariaDB, driven from this process over loopback (bench/callgrind-harness.ts
 * does the counting: warm-up, counters zeroed, QUERIES point selects, counters dumped, idle work
 * taken out).
 *
 *   pnpm --filter @shardgate/gateway exec tsx bench/callgrind-point-select.ts
 *   BASE_DIST=<other checkout>/apps/gateway/dist QUERIES=3000 [PS=1|mysql2] [KEEP=<dir>] \
 *     pnpm --filter @shardgate/gateway exec tsx bench/callgrind-point-select.ts
 *
 * One connection (CLIENTS=1) by default, one query at a time: under callgrind the target runs ~50×
 * slower, and with several connections it would read several queries per event-loop turn, which a
 * gateway at full speed does not. KEEP=<dir> keeps the dumps for `callgrind_annotate` (JIT code
 * shows as `???`; builtins, the runtime, GC and libc by name); with PERF_MAP=1 the perf map too.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql2 from 'mysql2';
import { ColumnType } from '@shardgate/mysql-protocol';
import { comStmtExecute, comStmtPrepare, isOkPacket, RawMysqlClient } from '@shardgate/mysql-protocol/testing';
import { freePort, startPreparedShard, TABLE_SIZE } from './sysbench-harness.js';
import { formatCount, gatewayTarget, textQueryDriver, instructionsPerQuery, relayTarget, type CallgrindTarget, type QueryDriver } from './callgrind-harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const QUERIES = Number(process.env.QUERIES ?? 3000);
const WARMUP = Number(process.env.WARMUP ?? 10000);
const CLIENTS = Number(process.env.CLIENTS ?? 1);
/** PS=1: prepared statements as sysbench sends them; PS=mysql2: as mysql2's `execute` does. */
const PS_DRIVER = process.env.PS === '1' ? preparedDriver : process.env.PS === 'mysql2' ? mysql2PreparedDriver : null;
const PREPARED = PS_DRIVER !== null;
const KEEP = process.env.KEEP;
const IDLE_MS = Number(process.env.IDLE_MS ?? 5000);
/** PERF_MAP=1: node writes /tmp/perf-<pid>.map (--perf-basic-prof), kept with KEEP, to name the JIT code callgrind shows as `???`. */
const PERF_MAP = process.env.PERF_MAP === '1';

let seed = 1;
/** The next id of the bench's pseudo-random sequence (shared by all connections). */
function nextId(): number {
  seed = (seed * 48271) % 2147483647;
  return 1 + (seed % TABLE_SIZE);
}

function textDriver(port: number, user: string, password: string): Promise<QueryDriver> {
  return textQueryDriver(port, user, password, 'sbtest', () => `SELECT c FROM sbtest1 WHERE id=${nextId()}`);
}

/**
 * COM_STMT_EXECUTE as sysbench sends it (`--db-ps-mode=auto`, libmariadb): the statement prepared
 * once, its one param bound as MYSQL_TYPE_LONG, the types sent with the first execute only
 * (new-params-bound 0 after it).
 */
async function preparedDriver(port: number, user: string, password: string): Promise<QueryDriver> {
  const { client: c, reply } = await RawMysqlClient.login(port, { user, password, database: 'sbtest' });
  if (!isOkPacket(reply.payload)) throw new Error(`login refused: ${reply.payload.toString('latin1')}`);
  c.send(comStmtPrepare('SELECT c FROM sbtest1 WHERE id=?'));
  const ok = (await c.nextPacket()).payload;
  if (!isOkPacket(ok)) throw new Error(`prepare refused: ${ok.toString('latin1')}`);
  const id = ok.readUInt32LE(1);
  const columns = ok.readUInt16LE(5);
  const params = ok.readUInt16LE(7);
  // The param and column definitions, each list followed by an EOF.
  for (let i = (params > 0 ? params + 1 : 0) + (columns > 0 ? columns + 1 : 0); i > 0; i--) await c.nextPacket();
  let typesSent = false;
  return {
    next: async () => {
      c.send(comStmtExecute(id, [{ type: ColumnType.LONG, value: nextId() }], { newParamsBound: !typesSent }));
      typesSent = true;
      const r = await c.readResult();
      if (r.kind !== 'resultset' || r.rows.length !== 1) throw new Error(`execute: unexpected ${r.kind} reply with ${r.rows.length} rows`);
    },
    close: () => c.close(),
  };
}

/** COM_STMT_EXECUTE as mysql2's `execute` sends it (PS=mysql2): its statement cache, the types with every execute, a number as DOUBLE. */
async function mysql2PreparedDriver(port: number, user: string, password: string): Promise<QueryDriver> {
  const c = mysql2.createConnection({ host: '127.0.0.1', port, user, password, database: 'sbtest', connectTimeout: 300_000 });
  await new Promise<void>((resolve, reject) => c.connect((err) => (err ? reject(err) : resolve())));
  return {
    next: () => new Promise((resolve, reject) => c.execute('SELECT c FROM sbtest1 WHERE id=?', [nextId()], (err) => (err ? reject(err) : resolve()))),
    close: () => c.destroy(),
  };
}

async function main(): Promise<void> {
  const { cluster, port: shardPort } = await startPreparedShard();
  const gateway = async (name: string, dist: string): Promise<CallgrindTarget> =>
    gatewayTarget(
      name,
      dist,
      await freePort(),
      {
        vschema: { keyspaces: { sbtest: { sharded: false, tables: { sbtest1: {} } } } },
        keyspaces: { sbtest: { '0': `mysql://root:@127.0.0.1:${shardPort}/sbtest` } },
        user: 'sb',
        settings: [`poolSize: ${CLIENTS}`],
      },
      PERF_MAP,
    );
  const targets: CallgrindTarget[] = [relayTarget(await freePort(), shardPort, PERF_MAP), await gateway('this build', path.resolve(here, '../dist'))];
  if (process.env.BASE_DIST) targets.push(await gateway('BASE_DIST', path.resolve(process.env.BASE_DIST)));
  if (process.env.ONLY) targets.splice(0, targets.length, ...targets.filter((t) => process.env.ONLY!.split(',').includes(t.name)));
  try {
    console.log(`${QUERIES} point selects after ${WARMUP} (${PREPARED ? 'prepared statements' : 'text protocol'}), ${CLIENTS} connection(s), each target under callgrind`);
    for (const t of targets) {
      const r = await instructionsPerQuery(t, {
        connect: PS_DRIVER ?? textDriver,
        clients: CLIENTS,
        warmup: WARMUP,
        queries: QUERIES,
        label: PREPARED ? `ps-${process.env.PS}` : 'text',
        keep: KEEP,
        perfMap: PERF_MAP,
        idleMs: IDLE_MS,
      });
      console.log(formatCount(t.name, r));
    }
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
