/** Self time per function and per package from a V8 .cpuprofile (the profile-* benches). */
export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time (µs) per function and per package, from the samples of a .cpuprofile. */
export function summarize(profile: CpuProfile): { total: number; byFunction: [string, number][]; byPackage: [string, number][] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfById = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfById.set(profile.samples[i], (selfById.get(profile.samples[i]) ?? 0) + dt);
  }
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfById) {
    const f = byId.get(id)!.callFrame;
    total += us;
    const file = f.url.replace(/^file:\/\//, '');
    const key = functionKey(f);
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const pkg = packageOf(file, f.functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const sort = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { total, byFunction: sort(byFunction), byPackage: sort(byPackage) };
}

function functionKey(f: ProfileNode['callFrame']): string {
  const file = f.url.replace(/^file:\/\//, '');
  return `${f.functionName || '(anonymous)'}  ${file ? `${shortFile(file)}:${f.lineNumber + 1}` : ''}`;
}

export interface BusySlice {
  /** Length of the run of busy samples (µs). */
  us: number;
  /** Self time per function within it, largest first. */
  byFunction: [string, number][];
}

/**
 * The `count` longest runs of consecutive samples in which the thread was not idle: for the main
 * thread, the longest times the event loop could not serve another client.
 */
export function longestBusySlices(profile: CpuProfile, count: number): BusySlice[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const runs: { from: number; to: number; us: number }[] = [];
  let from = -1;
  let us = 0;
  for (let i = 0; i <= profile.samples.length; i++) {
    const node = i < profile.samples.length ? byId.get(profile.samples[i]) : undefined;
    const busy = node !== undefined && node.callFrame.functionName !== '(idle)';
    if (busy) {
      if (from < 0) {
        from = i;
        us = 0;
      }
      us += profile.timeDeltas[i + 1] ?? 0;
    } else if (from >= 0) {
      runs.push({ from, to: i, us });
      from = -1;
    }
  }
  runs.sort((a, b) => b.us - a.us);
  return runs.slice(0, count).map((r) => {
    const fns = new Map<string, number>();
    for (let i = r.from; i < r.to; i++) {
      const key = functionKey(byId.get(profile.samples[i])!.callFrame);
      fns.set(key, (fns.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
    }
    return { us: r.us, byFunction: [...fns].sort((a, b) => b[1] - a[1]) };
  });
}

function shortFile(file: string): string {
  const i = file.lastIndexOf('node_modules/');
  if (i >= 0) return file.slice(i + 'node_modules/'.length).replace(/^\.pnpm\/[^/]+\/node_modules\//, '');
  const j = file.indexOf('/packages/');
  if (j >= 0) return file.slice(j + 1);
  const k = file.indexOf('/apps/');
  return k >= 0 ? file.slice(k + 1) : file;
}

function packageOf(file: string, fn: string): string {
  if (!file) return fn.startsWith('(') ? fn : '(native)';
  if (file.startsWith('node:')) return 'node internals';
  const m = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (m) return m[1];
  const p = /\/(packages|apps)\/([^/]+)\//.exec(file);
  return p ? `@shardgate/${p[2]}` : file;
}


/**
 * Self time per function of the samples taken between fromUs and toUs (the profile's own clock:
 * V8's monotonic microseconds, which is process.hrtime's clock on Linux), largest first.
 */
export function functionsBetween(profile: CpuProfile, fromUs: number, toUs: number): [string, number][] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fns = new Map<string, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const key = functionKey(byId.get(profile.samples[i])!.callFrame);
    fns.set(key, (fns.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  return [...fns].sort((a, b) => b[1] - a[1]);
}
