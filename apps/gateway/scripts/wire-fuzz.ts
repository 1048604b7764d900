/**
 * `pnpm wire-fuzz --port P [--http H] [--seed N] [--count N] [--start I]`: a seeded wire-protocol fuzzer for a
 * running gateway (`npm start`'s demo, or any with user app/secret and `commerce.customer`).
 *
 * Each case is one connection that misbehaves: random or corrupted handshakes, SSL requests
 * followed by garbage, then after login a few frames, pipelined or one at a time: real commands
 * (rare ones included: FIELD_LIST, STMT_FETCH, SEND_LONG_DATA, SET_OPTION, PROCESS_KILL, DEBUG,
 * BINLOG_DUMP, CHANGE_USER), random payloads, flipped bytes, wrong sequence ids, truncated frames,
 * lengths that lie, hostile SQL; then QUIT, an abrupt close, or a close in the middle of a reply.
 *
 * After each case: every ERR the case got carries an errno and a '#' SQLSTATE; a case whose frames
 * were complete got its PING answered (or its connection closed) within 15 s (no stall); a fresh
 * mysql2 client gets `select 1` and a point select right. With --http, the gateway's open sessions
 * and shard connections in use return to their level before the case (no leak). Prints each
 * failure with its seed and case number; exits 1 if there was one.
 */
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { seededRandom } from '@shardgate/test-kit/race';
import {
  comPing,
  comQuery,
  comStmtExecute,
  comStmtPrepare,
  framePacket,
  handshakeResponse,
  isErrPacket,
  packetHeader,
  parseErr,
  RawMysqlClient,
  type RawPacket,
} from '@shardgate/mysql-protocol/testing';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '15306' },
    http: { type: 'string' },
    seed: { type: 'string', default: '1' },
    count: { type: 'string', default: '500' },
    start: { type: 'string', default: '0' },
  },
});
const port = Number(values.port);
const USER = 'app';
const PASSWORD = 'secret';

type Random = () => number;
const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Random, n: number): number => Math.floor(r() * n);
const bytes = (r: Random, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(r, 256)));

const HOSTILE_SQL = [
  'select 1', 'select * from customer where customer_id = 1', 'select * from customer', 'select sleep(0.2)',
  "select 'abc", 'select /* open', 'select 1; select 2', 'select (((((1', 'select 1))))', 'select ?',
  'select \u0000 1', "select '\u00ff\u00fe'", 'begin', 'commit', 'rollback', 'set autocommit = 0', "set names 'latin1'",
  'kill query 1', 'show processlist', 'use nope', 'use commerce', "load data local infile '/etc/passwd' into table customer",
  `select * from customer where customer_id in (${Array.from({ length: 2000 }, (_, i) => i).join(',')})`,
  `select ${'('.repeat(4000)}1`, `select * from \`${'x'.repeat(5000)}\``, 'select * from customer for update', '',
  'insert into customer (customer_id, email, name) values (1, null, null)', 'select @@version, connection_id()',
];

/** A command payload: a real command with random or plausible arguments, or random bytes. */
function command(r: Random): Buffer {
  const u32 = (v: number): Buffer => Buffer.from([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);
  switch (int(r, 16)) {
    case 0: case 1: case 2: return comQuery(pick(r, HOSTILE_SQL));
    case 3: return comStmtPrepare(pick(r, ['select ?', 'select * from customer where customer_id = ?', 'insert into customer values (?, ?, ?)', 'select ?, ?, ?, ?', 'bad ?']));
    case 4: return comStmtExecute(1 + int(r, 2), Array.from({ length: int(r, 5) }, () => pick(r, [{ type: 3, value: int(r, 100) }, { type: 0xfd, value: 'x'.repeat(int(r, 300)) }, { type: 6, value: null }])), { flags: pick(r, [0, 1, 2, 4, 8, 255]) });
    case 5: return Buffer.concat([Buffer.from([0x1c]), u32(1 + int(r, 2)), u32(pick(r, [0, 1, 100, 0xffffffff]))]); // COM_STMT_FETCH
    case 6: return Buffer.concat([Buffer.from([0x18]), u32(1 + int(r, 2)), Buffer.from([int(r, 4), 0]), bytes(r, int(r, 2000))]); // SEND_LONG_DATA
    case 7: return Buffer.concat([Buffer.from([0x1a]), u32(1 + int(r, 2))]); // STMT_RESET
    case 8: return Buffer.concat([Buffer.from([0x19]), u32(1 + int(r, 2))]); // STMT_CLOSE
    case 9: return Buffer.concat([Buffer.from([0x1b]), Buffer.from([int(r, 3), 0])]); // SET_OPTION
    case 10: return Buffer.concat([Buffer.from([0x0c]), u32(int(r, 50))]); // PROCESS_KILL
    case 11: return Buffer.concat([Buffer.from([0x04]), Buffer.from(pick(r, ['customer', 'nope', '', 'customer\u0000%']))]); // FIELD_LIST
    case 12: return Buffer.from([pick(r, [0x09, 0x0d, 0x12, 0x0f, 0x10, 0x11, 0x14, 0x1d, 0x1e, 0x1f, 0x20, 0xff])]); // STATISTICS, DEBUG, BINLOG_DUMP, …
    case 13: return Buffer.concat([Buffer.from([0x11]), Buffer.from(pick(r, ['app\u0000\u0000commerce\u0000', 'nobody\u0000\u0000', '\u0000']))]); // CHANGE_USER
    case 14: return Buffer.concat([Buffer.from([int(r, 0x20)]), bytes(r, int(r, 40))]);
    default: return bytes(r, int(r, 40));
  }
}

/** Flips, cuts or extends a payload now and then. */
function mutate(r: Random, p: Buffer): Buffer {
  const roll = r();
  if (roll < 0.7 || p.length === 0) return p;
  const c = Buffer.from(p);
  if (roll < 0.85) c[int(r, c.length)] = int(r, 256);
  else if (roll < 0.95) return c.subarray(0, int(r, c.length));
  else return Buffer.concat([c, bytes(r, int(r, 20))]);
  return c;
}

interface CaseResult {
  errs: { errno: number; sqlState: string }[];
  stalled: boolean;
}

/** Reads what the server sends until `done` says so, the connection closes, or the deadline passes. */
async function readUntil(client: RawMysqlClient, done: (p: RawPacket) => boolean, ms: number, errs: CaseResult['errs']): Promise<'done' | 'closed' | 'timeout'> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return 'timeout';
    let timer: NodeJS.Timeout | undefined;
    const p = await Promise.race([
      client.nextPacket().catch(() => null),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), left))),
    ]);
    clearTimeout(timer);
    if (p === 'timeout') return 'timeout';
    if (p === null) return 'closed';
    if (isErrPacket(p.payload) && p.payload.length >= 9) errs.push(parseErr(p.payload));
    if (done(p)) return 'done';
  }
}

async function runCase(r: Random): Promise<CaseResult> {
  const errs: CaseResult['errs'] = [];
  const client = await RawMysqlClient.connect(port);
  try {
    const phase = r();
    let complete = true;
    if (phase < 0.25) {
      // Handshake abuse: garbage, a corrupted response, an SSL request then garbage, a wrong sequence id.
      const good = handshakeResponse({ user: USER, password: PASSWORD, scramble: client.handshake.scramble, database: 'commerce' });
      const sslRequest = Buffer.concat([Buffer.from([0x00, 0x0a, 0xaa, 0x01]), Buffer.alloc(28)]);
      const choice = int(r, 4);
      if (choice === 0) client.sendRaw(bytes(r, int(r, 200)));
      else if (choice === 1) client.send(mutate(r, mutate(r, good)), 1);
      else if (choice === 2) client.sendRaw(Buffer.concat([framePacket(sslRequest, 1), bytes(r, int(r, 100))]));
      else client.send(good, pick(r, [0, 2, 255]));
      complete = choice !== 0;
    } else {
      client.send(handshakeResponse({ user: USER, password: PASSWORD, scramble: client.handshake.scramble, database: 'commerce' }), 1);
      const reply = await client.nextPacket();
      if (reply.payload[0] !== 0x00) throw new Error(`login refused: ${JSON.stringify(parseErr(reply.payload))}`);
      const pipelined = r() < 0.5;
      for (let n = 1 + int(r, 6); n > 0; n--) {
        const seq = r() < 0.9 ? 0 : int(r, 256);
        const frame = framePacket(mutate(r, command(r)), seq);
        if (r() < 0.03) {
          // A length that lies: the server waits for bytes that never come (as MariaDB does).
          client.sendRaw(Buffer.concat([packetHeader(frame.length + int(r, 1000), 0), frame.subarray(4)]));
          complete = false;
          break;
        }
        client.sendRaw(frame);
        if (!pipelined && (await readUntil(client, () => true, 300, errs)) === 'closed') break;
      }
    }
    let stalled = false;
    const ending = r();
    if (ending < 0.2) {
      client.socket.destroy(); // gone at once, replies unread
    } else if (complete && !client.socket.destroyed) {
      // The PING's OK comes after every earlier reply: all were answered, or the server closed.
      client.send(comPing(), 0);
      const end = await readUntil(client, (p) => p.payload.length === 7 && p.payload[0] === 0x00 && p.sequenceId === 1, 15_000, errs);
      stalled = end === 'timeout';
      if (ending < 0.5) client.send(Buffer.from([0x01]), 0);
    }
    return { errs, stalled };
  } finally {
    client.socket.destroy();
    await client.closed;
  }
}

async function gauges(): Promise<Record<string, number>> {
  if (values.http === undefined) return {};
  const text = await (await fetch(`http://${values.http}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(shardgate_open_sessions|shardgate_pool_connections_in_use)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m) out[m[1]! + (m[2] ?? '')] = Number(m[3]);
  }
  return out;
}

async function settled(before: Record<string, number>): Promise<string | null> {
  for (let i = 0; i < 50; i++) {
    const now = await gauges();
    const grown = Object.keys(now).filter((k) => now[k]! > (before[k] ?? 0));
    if (grown.length === 0) return null;
    if (i === 49) return grown.map((k) => `${k} ${before[k]} -> ${now[k]}`).join(', ');
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

const seed = Number(values.seed);
const count = Number(values.count);
const checker = { host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'commerce' };
let failures = 0;
/** errno → how many ERR packets the cases got (shows what the fuzzer reached). */
const errnos = new Map<number, number>();
const baseline = await gauges();
const started = Date.now();
const first = Number(values.start);
for (let i = first; i < first + count; i++) {
  const problems: string[] = [];
  try {
    // Each case has a stream of its own: `--start i --count 1` replays case i alone.
    const result = await runCase(seededRandom((Math.imul(seed, 1_000_003) + i) >>> 0));
    for (const e of result.errs) errnos.set(e.errno, (errnos.get(e.errno) ?? 0) + 1);
    if (result.stalled) problems.push('no answer to PING within 15 s after complete frames (stall)');
    for (const e of result.errs) if (!(e.errno >= 1000 && e.errno < 5000) || !/^[0-9A-Z]{5}$/.test(e.sqlState)) problems.push(`malformed ERR ${JSON.stringify(e)}`);
  } catch (err) {
    problems.push(`case failed: ${(err as Error).message}`);
  }
  try {
    const c = await mysql.createConnection({ ...checker, connectTimeout: 10_000 });
    const [one] = await c.query('select 1 as one');
    const [row] = await c.query('select customer_id from customer where customer_id = 1');
    if (JSON.stringify(one) !== '[{"one":1}]' || JSON.stringify(row) !== '[{"customer_id":1}]') problems.push(`fresh client got ${JSON.stringify([one, row])}`);
    await c.end();
  } catch (err) {
    problems.push(`fresh client failed: ${(err as Error).message}`);
  }
  const leak = await settled(baseline);
  if (leak !== null) problems.push(`not released: ${leak}`);
  if (problems.length > 0) {
    failures++;
    console.log(`FAIL seed ${seed} case ${i}: ${problems.join('; ')}`);
  }
}
console.log(`seed ${seed}: ${count} cases, ${failures} failed (${Math.round((Date.now() - started) / 1000)} s)`);
console.log(`errors answered: ${[...errnos].sort((a, b) => b[1] - a[1]).map(([e, n]) => `${e}×${n}`).join(' ')}`);
process.exit(failures > 0 ? 1 : 0);
