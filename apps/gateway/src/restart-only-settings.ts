import type { GatewayConfig } from './config.js';

/**
 * Settings a reload does not apply: listeners, TLS, shards and pools, limits and timeouts are
 * read once at start. A reload that finds one of them changed in the file still applies the
 * vschema and users, and names these so the operator knows a restart is needed: an edit that
 * silently did nothing looks, to the one who made it, like an edit that took effect.
 */
const RESTART_ONLY: readonly (keyof GatewayConfig)[] = [
  'listen',
  'tls',
  'keyspaces',
  'dataDir',
  'poolSize',
  'workload',
  'transactionMode',
  'queryTimeoutMs',
  'transactionTimeoutMs',
  'maxMemoryRows',
  'planCache',
  'drainTimeoutMs',
  'slowQueryMs',
  'maxConnections',
  'connectionIds',
  'maxAllowedPacket',
  'connectTimeoutMs',
  'netReadTimeoutMs',
  'waitTimeoutMs',
  'maxPacketMemory',
  'planTimeoutMs',
  'planWorkers',
  'planWorkerIdleMs',
  'seedFile',
];

/** The restart-only settings whose values differ between the running config and the file's. */
export function restartOnlyChanges(running: GatewayConfig, fromFile: GatewayConfig): string[] {
  return RESTART_ONLY.filter((key) => canonical(running[key]) !== canonical(fromFile[key]));
}

/** JSON with Maps as sorted entry lists, so equal configs compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Map) return [...v.entries()].sort(([a], [b]) => (String(a) < String(b) ? -1 : 1));
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)));
    }
    return v;
  }) ?? 'undefined';
}
