/**
 * Where the instructions of a kept callgrind dump go, per function (self cost), with the JIT code
 * callgrind shows as `???:0x…` named through node's perf map (--perf-basic-prof): the dumps and
 * maps that bench/callgrind-statement.ts and bench/callgrind-point-select.ts keep with
 * `KEEP=<dir> PERF_MAP=1`.
 *
 *   pnpm --filter @shardgate/gateway exec tsx bench/callgrind-breakdown.ts <dump> <perf map> <queries> [top]
 *
 * Prints instructions per query by kind (shardgate's JavaScript, other JavaScript, V8 builtins,
 * the rest of node and libc) and the `top` functions (default 60).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface MapEntry {
  start: bigint;
  end: bigint;
  name: string;
}

/** The perf map's entries (`<start hex> <size hex> <name>`), sorted by start. */
function readPerfMap(file: string): MapEntry[] {
  const out: MapEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/i.exec(line);
    if (!m) continue;
    const start = BigInt(`0x${m[1]}`);
    out.push({ start, end: start + BigInt(`0x${m[2]}`), name: m[3]! });
  }
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** The map entry whose code holds `addr` (the last one written wins: code space is reused). */
function lookup(map: readonly MapEntry[], addr: bigint): string | undefined {
  let lo = 0;
  let hi = map.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (map[mid]!.start <= addr) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  for (let i = found; i >= 0 && i > found - 50; i--) if (map[i]!.start <= addr && addr < map[i]!.end) return map[i]!.name;
  return undefined;
}

/** The kind of a function, for the summary. */
function kindOf(name: string): string {
  if (name.startsWith('JS:') || name.startsWith('LazyCompile:') || name.startsWith('Function:') || name.startsWith('Script:')) {
    return /\/(packages|apps)\/[^ ]*\/dist\//.test(name) ? 'shardgate JavaScript (JIT)' : 'other JavaScript (JIT: node, mysql2)';
  }
  if (name.startsWith('Builtin:') || name.includes('Builtins_')) return 'V8 builtins';
  if (name.startsWith('???')) return 'unnamed code';
  if (/v8::internal::(Heap|Scavenger|.*Mark|.*Sweep|.*Evacuat|.*GC|.*Visitor|.*Root)/.test(name)) return 'V8 GC';
  if (name.includes('v8::')) return 'V8 runtime and API';
  return 'node, libuv, libc, kernel interface';
}

async function main(): Promise<void> {
  const [dump, mapFile, queriesArg, topArg] = process.argv.slice(2);
  if (!dump || !mapFile || !queriesArg) throw new Error('usage: callgrind-breakdown.ts <dump> <perf map> <queries> [top]');
  const queries = Number(queriesArg);
  const top = Number(topArg ?? 60);
  const map = readPerfMap(mapFile);
  const { stdout } = await run('callgrind_annotate', ['--inclusive=no', '--auto=no', '--threshold=100', dump], { maxBuffer: 512 * 1024 * 1024 });
  const byName = new Map<string, number>();
  const totals = /^\s*([\d,]+)\s.*PROGRAM TOTALS/m.exec(stdout);
  if (!totals) throw new Error(`no PROGRAM TOTALS in callgrind_annotate's output for ${dump}`);
  const programTotal = Number(totals[1]!.replace(/,/g, ''));
  let total = 0;
  for (const line of stdout.split('\n')) {
    const m = /^\s*([\d,]+)\s+(?:\([\s\d.]+%\)\s+)?(\S.*)$/.exec(line);
    if (!m || /PROGRAM TOTALS|^Ir$/.test(m[2]!)) continue;
    const n = Number(m[1]!.replace(/,/g, ''));
    // A dump taken mid-run lists the frames on the stack at the dump (main, the event loop) with
    // the whole total as if it were their own: not self cost, left out.
    if (n >= programTotal) continue;
    let name = m[2]!.replace(/\s+\[[^\]]*\]$/, '');
    const addr = /\?\?\?:0x([0-9a-f]+)/i.exec(name);
    if (addr) name = lookup(map, BigInt(`0x${addr[1]}`)) ?? '??? (not in the perf map)';
    else name = name.replace(/^[^:]*:/, '');
    byName.set(name, (byName.get(name) ?? 0) + n);
    total += n;
  }
  const byKind = new Map<string, number>();
  for (const [name, n] of byName) byKind.set(kindOf(name), (byKind.get(kindOf(name)) ?? 0) + n);
  const per = (n: number): string => Math.round(n / queries).toLocaleString('en-US').padStart(9);
  console.log(`${per(total)} instructions per query in ${dump} (self cost, ${queries} queries)`);
  for (const [kind, n] of [...byKind].sort((a, b) => b[1] - a[1])) console.log(`${per(n)}  ${kind}`);
  console.log('');
  for (const [name, n] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${per(n)}  ${name.slice(0, 150)}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
