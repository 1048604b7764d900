/**
 * Preloaded (`node --import`) into a gateway process by bench/profile-stall.ts: measures every
 * synchronous stretch of the main thread that held the event loop longer than THRESHOLD_US.
 *
 * A 1 ms interval timer stands in for another client waiting: a timer that falls due while the
 * thread runs JavaScript fires only once that macrotask ends, and work that yields between slices
 * (setImmediate) lets it fire between them. So the gap between two ticks, less the interval, is
 * the longest stretch another client would have waited in it. Stretches go to STALL_METER_OUT as
 * [startUs, endUs] pairs of the monotonic clock (process.hrtime, the clock of V8's .cpuprofile
 * timestamps), written when the process exits.
 *
 * Concurrency rule: main thread only; `stretches` is touched by the timer callback and the exit
 * handler, both on the event loop.
 */
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const out = process.env.STALL_METER_OUT;
const INTERVAL_MS = 1;
const THRESHOLD_US = 3000;
if (isMainThread && out) {
  const stretches = [];
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  let last = nowUs();
  setInterval(() => {
    const now = nowUs();
    if (now - last - INTERVAL_MS * 1000 > THRESHOLD_US) stretches.push([last + INTERVAL_MS * 1000, now]);
    last = now;
  }, INTERVAL_MS).unref();
  process.on('exit', () => writeFileSync(out, JSON.stringify(stretches)));
}
