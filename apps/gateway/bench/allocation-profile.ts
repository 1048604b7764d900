/**
 * What the in-process benches share for their profiles: the inspector's post as a promise, and
 * the largest allocation sites of a sampled heap profile, per unit of work (query, transaction).
 */
import type { Session } from 'node:inspector';

export function inspectorPost(session: Session, method: string, params: object): Promise<unknown> {
  return new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
}

export interface HeapProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapProfileNode[];
}
export interface HeapProfileNodeRoot {
  head: HeapProfileNode;
}

/** The largest allocation sites of a sampled heap profile, per `unit` of work, on stderr (the parent shows it). */
export function printAllocationSites(head: HeapProfileNode, units: number, unit: string): void {
  const name = (n: HeapProfileNode): string => {
    const file = n.callFrame.url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
    return `${n.callFrame.functionName || '(anonymous)'} ${file}:${n.callFrame.lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const withCaller = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapProfileNode, parent: HeapProfileNode | null): void => {
    if (n.selfSize > 0) {
      total += n.selfSize;
      self.set(name(n), (self.get(name(n)) ?? 0) + n.selfSize);
      const key = `${name(n)}  <-  ${parent ? name(parent) : '(root)'}`;
      withCaller.set(key, (withCaller.get(key) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, n);
  };
  walk(head, null);
  const top = (m: Map<string, number>, k: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([f, b]) => `  ${(b / units).toFixed(0).padStart(7)} B  ${f}`).join('\n');
  console.error(`sampled allocations: ${(total / units).toFixed(0)} B per ${unit}\nby function:\n${top(self, 40)}\nby function and caller:\n${top(withCaller, 40)}`);
}
