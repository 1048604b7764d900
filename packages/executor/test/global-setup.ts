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
  // Unit-only runs (`vitest run test/foo.test.ts`) need no servers.
  const wantsCluster = process.argv.every((a) => !a.endsWith('.test.ts') || a.includes('.int.'));
  if (!wantsCluster) return Promise.resolve(async () => {});
  return startSharedCluster(project, { shards: [...COMMERCE_SHARDS, 'main', 'reference'] });
}
