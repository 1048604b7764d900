// Entry point `@shardgate/test-kit/oracle`.
export {
  compareWithReference,
  runQuery,
  type CompareOptions,
  type OracleMismatch,
  type OracleQuery,
  type OracleReport,
  type QueryOutcome,
  type SqlTarget,
  type SqlTargetFactory,
} from './differential-oracle.js';
export { normalizeRows, normalizeValue, type NormalizedRow, type NormalizedValue } from './result-normalizer.js';
export type { RowDifference } from './result-comparison.js';
export { generateCommerceData, sqlLiteral, type CommerceData, type CommerceDataOptions } from './commerce-data-generator.js';
