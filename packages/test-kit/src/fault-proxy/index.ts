// Entry point `@shardgate/test-kit/fault-proxy`.
export { FaultProxy, type FaultProxyOptions } from './fault-proxy.js';
