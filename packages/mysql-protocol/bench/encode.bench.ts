/**
 * Encoding throughput of result sets (no sockets): how many rows per second the
 * server can turn into wire bytes through the same ResultSink the sessions use.
 * Run: pnpm --filter @shardgate/mysql-protocol bench
 */
import { ColumnType, columnDefinition, PacketWriter, textColumn, type ColumnDefinition } from '../src/index.js';
import { CommandResultSink, type SinkHost } from '../src/result-sink.js';
import { decodeTextRow } from '../src/client/client-packets.js';

const DURATION_MS = Number(process.env.BENCH_MS ?? 1000);

function fakeHost(): SinkHost & { bytes: number } {
  const writer = new PacketWriter();
  const host = {
    writer,
    signal: new AbortController().signal,
    bytes: 0,
    statusFlags: () => 2,
    resultCollation: () => 45,
    flush: () => {
      host.bytes += writer.take().length; // the socket write is replaced by dropping the bytes
    },
    flushSoon: () => {
      host.bytes += writer.take().length;
    },
    socketBlocked: () => false,
    waitForDrain: () => Promise.resolve(),
    reportMisuse: (m: string) => {
      throw new Error(m);
    },
  };
  return host;
}

const COLUMNS: ColumnDefinition[] = [
  columnDefinition('id', ColumnType.LONGLONG),
  textColumn('name'),
  columnDefinition('created', ColumnType.DATETIME),
  columnDefinition('price', ColumnType.NEWDECIMAL, { decimals: 2 }),
  textColumn('note'),
];
const ROW = ['123456789', 'customer-000123', '2024-01-02 03:04:05', '1999.95', null];

function measure(name: string, unit: string, step: () => number): void {
  // warm-up
  const warm = Date.now();
  while (Date.now() - warm < 200) step();
  let count = 0;
  const start = process.hrtime.bigint();
  const deadline = Date.now() + DURATION_MS;
  while (Date.now() < deadline) count += step();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rate = Math.round(count / seconds);
  console.log(`| ${name} | ${rate.toLocaleString('en-US')} ${unit}/s |`);
}

function streamRows(binary: boolean): () => number {
  const host = fakeHost();
  return () => {
    const sink = new CommandResultSink(host, binary);
    sink.columns(COLUMNS);
    for (let i = 0; i < 1000; i++) sink.row(ROW);
    sink.end();
    return 1000;
  };
}

function pointSelect(): () => number {
  const host = fakeHost();
  const cols = [columnDefinition('id', ColumnType.LONGLONG)];
  const row = ['42'];
  return () => {
    const sink = new CommandResultSink(host, false);
    sink.columns(cols);
    sink.row(row);
    sink.end();
    return 1;
  };
}

/** ROW as a shard's text row packet payload, and its cells as the shard client decodes them. */
const PAYLOAD = Buffer.concat(ROW.map((v) => (v === null ? Buffer.from([0xfb]) : Buffer.concat([Buffer.from([Buffer.byteLength(v)]), Buffer.from(v)]))));
const CELLS = decodeTextRow(PAYLOAD, ROW.length);

/**
 * A shard's row on its way to the client: rawRow (text: the payload copied; binary: the binary row
 * built from the payload's bytes), or with `cells`, row() of the decoded cells (binary: the
 * encoder COM_STMT_EXECUTE results used before writeBinaryRowFromText).
 */
function forwardRows(binary: boolean, cells: boolean): () => number {
  const host = fakeHost();
  return () => {
    const sink = new CommandResultSink(host, binary);
    sink.columns(COLUMNS);
    if (cells) for (let i = 0; i < 1000; i++) sink.row(CELLS);
    else for (let i = 0; i < 1000; i++) sink.rawRow(PAYLOAD, 0, PAYLOAD.length, CELLS);
    sink.end();
    return 1000;
  };
}

console.log(`node ${process.version}, ${DURATION_MS} ms per case`);
console.log('| case | throughput |');
console.log('|---|---|');
measure('text rows, 5 columns (bigint, varchar, datetime, decimal, NULL)', 'rows', streamRows(false));
measure('binary rows, same 5 columns (COM_STMT_EXECUTE)', 'rows', streamRows(true));
measure('point-select result (1 column def + 1 row + EOF)', 'results', pointSelect());
measure('shard text row forwarded to a text result (payload copied)', 'rows', forwardRows(false, false));
measure('shard text row to a binary result, from its bytes (writeBinaryRowFromText)', 'rows', forwardRows(true, false));
measure('shard text row to a binary result, from its decoded cells (writeBinaryRow)', 'rows', forwardRows(true, true));
