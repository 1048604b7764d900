// A probe client on its own thread: one point select every PROBE_INTERVAL_MS through the gateway,
// timing each round trip. It runs in a worker so that the test's main thread (which builds the
// megabyte statements and reads their results) can never delay the probe's own timers: any latency
// it sees is the gateway's. Plain JavaScript so that the worker needs no TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import mysql from 'mysql2/promise';

const { host, port, user, password, database, sql, intervalMs, expectedJson } = workerData;
const conn = await mysql.createConnection({ host, port, user, password, database });
let latencies = [];
let running = true;
let failures = [];

parentPort.on('message', (msg) => {
  if (msg === 'take') {
    // Hands over the latencies measured since the last take, and starts a new window.
    parentPort.postMessage({ latencies, failures });
    latencies = [];
    failures = [];
  } else if (msg === 'stop') {
    running = false;
  }
});

parentPort.postMessage('ready');
while (running) {
  const start = performance.now();
  let ms;
  try {
    const [rows] = await conn.query(sql);
    ms = performance.now() - start;
    // Rows checked after the timing, so that the check never counts as the gateway's latency.
    const json = JSON.stringify(rows);
    if (json !== expectedJson) failures.push(`wrong rows: ${json.slice(0, 200)}`);
  } catch (e) {
    ms = performance.now() - start;
    failures.push(`${e.errno ?? ''} ${e.message}`);
  }
  latencies.push(ms);
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
await conn.end();
parentPort.postMessage({ latencies, failures, stopped: true });
// The message listener keeps the thread alive; closing the port lets it exit.
parentPort.close();
