// @shardgate/vschema: Vitess-format vschema model, key ranges and vindex functions that produce the
// same keyspace ids as Vitess. See README.md.
export { loadVSchema, validateVSchema } from './vschema-loader.js';
export { VSchemaError, VSchemaLookupError, type VSchemaIssue } from './vschema-error.js';
export type { VSchema, Keyspace, Table, TableType, ColumnVindex } from './vschema-model.js';
export type {
  Vindex,
  VindexBase,
  FunctionalVindex,
  LookupVindex,
  LookupDestination,
} from './vindex-types.js';
export type { VindexValue } from './vindex-values.js';
export {
  type KeyRange,
  FULL_KEY_RANGE,
  parseShardName,
  keyRangeContains,
  keyRangeIsComplete,
  keyRangesIntersect,
  keyRangeFromPrefix,
  formatKeyRange,
  validateShardNames,
  compareKeys,
  ksidToHex,
  hexToBytes,
} from './key-range.js';
export { ShardMap } from './shard-map.js';
export { vhash, vunhash, xxhashBytes } from './functional-vindexes.js';
export { unicodeLooseKey } from './unicode-loose-key.js';
