// @shardgate/test-kit: everything. Subpath entries (./race, ./local-cluster, ./oracle,
// ./fault-proxy, ./fixtures) load only what they need; ./race does not load mysql2.
export * from './local-cluster/index.js';
export * from './race/index.js';
export * from './fixtures/index.js';
export * from './oracle/index.js';
export * from './fault-proxy/index.js';
