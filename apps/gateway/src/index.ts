export { Gateway, type GatewayAddresses, type GatewayLogger } from './gateway.js';
export { loadConfig, parseConfig, parseBytes, ConfigError, type GatewayConfig, type KeyspaceConfig, type ShardSource } from './config.js';
export { GatewayMetrics, statementType, type StatementType } from './metrics.js';
export { splitStatements } from './statement-splitter.js';
export { createLogger, maskCredentials, type GatewayLog } from './logger.js';
