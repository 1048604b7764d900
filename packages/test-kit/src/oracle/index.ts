// Entry point `@shardgate/test-kit/oracle`.
export {
  compareWithReference,
  runPrepared,
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
export {
  formatRandomFailure,
  preparedForm,
  randomQuerySql,
  runRandomDifferential,
  SHARDGATE_WORKLOADS,
  type RandomDifferentialOptions,
  type RandomDifferentialReport,
  type RandomDifferentialSession,
  type RandomFailure,
} from './random-differential.js';
export { generateRandomQuery, querySeed } from './random-query-generator.js';
export { renderQuery, type RandomQuery } from './random-query-model.js';
export type { RandomColumn, RandomColumnKind, RandomJoinPath, RandomSchema, RandomTable } from './random-query-schema.js';
export { randomCommerceFixture, type RandomCommerceFixture } from './random-commerce-fixture.js';
export {
  formatWriteFailure,
  resetWriteFixture,
  runRandomWriteDifferential,
  type RandomWriteDifferentialOptions,
  type RandomWriteFailure,
  type RandomWriteReport,
} from './random-write-differential.js';
export { generateRandomWrites, type RandomWrite } from './random-write-generator.js';
export { randomWriteFixture, type RandomWriteFixture, type RandomWriteLookup, type RandomWriteTable } from './random-write-fixture.js';
