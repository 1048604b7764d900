export * from './plan-types.js';
export { PlanError, syntaxError } from './errors.js';
export { Planner, type PlannerOptions, type PlannerCacheOptions, type PlanRequest, type CacheStats } from './planner.js';
export { tokenize, type Token, type TokenKind } from './lexer.js';
export { normalize, countPlaceholders, ROWS_BIND, type NormalizedQuery, type StatementKind } from './normalizer.js';
export { renderQuery, renderRow, encodeSqlValue, encodeList, quoteString, templateText } from './query-template.js';
export { toVitessJson, valueText } from './vitess-json.js';
export { buildPlan } from './statement-planner.js';
export { collationKeySql } from './collation-key-sql.js';
