// One MariaDB cluster for the whole vitest run: four commerce shards, one unsharded keyspace and a
// plain "reference" server for differential tests. Each test file gets fresh databases on it.
import type { TestProject } from 'vitest/node';
import { startSharedCluster, type SharedClusterInfo } from '@shardgate/test-kit';

declare module 'vitest' {
  export interface ProvidedContext {
    shardgateCluster: SharedClusterInfo;
  }
}

export const COMMERCE_SHARDS = ['-40', '40-80', '80-c0', 'c0-'] as const;

export default function setup(project: TestProject): Promise<() => Promise<void>> {
  // Unit-only runs (`vitest run test/foo.test.ts`) need no servers; a run naming any integration
  // file (or none at all) does, even when unit files are named beside it.
  const named = process.argv.filter((a) => a.endsWith('.test.ts'));
  const wantsCluster = named.length === 0 || named.some((a) => a.includes('.int.'));
  if (!wantsCluster) return Promise.resolve(async () => {});
  return startSharedCluster(project, { shards: [...COMMERCE_SHARDS, 'main', 'reference'] });
}
