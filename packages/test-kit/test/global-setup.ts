// One cluster for the whole vitest run (dogfooding startSharedCluster); tests that kill servers
// start their own LocalCluster instead.
import type { TestProject } from 'vitest/node';
import { startSharedCluster, type SharedClusterInfo } from '../src/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    shardgateCluster: SharedClusterInfo;
  }
}

export default function setup(project: TestProject): Promise<() => Promise<void>> {
  return startSharedCluster(project, { shards: ['reference', 'subject'] });
}
