/**
 * The helper column the gateway compares a string expression by, pushed next to it as SQL.
 *
 * WEIGHT_STRING(x) alone is not enough: MariaDB's weight strings keep trailing spaces, while PAD
 * SPACE collations (utf8mb4_general_ci, utf8mb4_unicode_ci, utf8mb4_bin, latin1_swedish_ci…)
 * compare 'alice' and 'alice ' as equal, and the result's field packet carries the connection's
 * collation, not the column's. So the shard also says, in x's own collation, whether it pads and
 * what one space weighs:
 *
 *   byte 0: length of the space's weight (1 latin1, 2 general/unicode, 3 utf8mb4_bin)
 *   byte 1: 1 when 'a ' = 'a' in x's collation (PAD SPACE), 0 otherwise (NO PAD, binary)
 *   then the space's weight, then WEIGHT_STRING(x).
 *
 * `left(x, 0)` is an empty string in x's charset and collation, so the literals are compared and
 * weighed as x is. The whole value is NULL when x is NULL or x is not a string (WEIGHT_STRING of a
 * number or a date is NULL). Decoded by the executor's values/cell-compare.ts.
 */
export function collationKeySql(x: string, padTrimmed = false): string {
  const empty = `left(${x}, 0)`;
  const space = `weight_string(concat(${empty}, ' '))`;
  const pads = `concat(${empty}, 'a ') = concat(${empty}, 'a')`;
  const weight = padTrimmed ? `weight_string(if(${pads}, trim(trailing ' ' from ${x}), ${x}))` : `weight_string(${x})`;
  return `concat(char(length(${space}), ${pads}), ${space}, ${weight})`;
}

/**
 * The collation key of x for a select list the shard itself deduplicates (SELECT DISTINCT): equal
 * for every pair of strings x's collation calls equal, so the extra column never splits a
 * shard's DISTINCT ('gift' and 'Gift ' are one row under a PAD SPACE _ci collation, but their
 * plain weight strings differ by the trailing space). Under PAD SPACE the weight is taken of x
 * without trailing spaces, which compares with other keys exactly as x does (the space's weight
 * pads the shorter key); NO PAD and binary collations keep every byte.
 */
export function distinctCollationKeySql(x: string): string {
  return collationKeySql(x, true);
}

/**
 * What a shard sorts a grouped string by, so that its stream arrives in the order the gateway
 * compares collation keys in. Sorting by the collation key itself is not enough: its weight
 * string keeps trailing spaces, so under a PAD SPACE collation 'paid' and 'Paid ' (one group)
 * would be sorted apart, and the next GROUP BY key would no longer be sorted within the group;
 * the gateway's ordered aggregate would then split that group. Under PAD SPACE the shard sorts by
 * the weight of x without its trailing spaces; under NO PAD and binary by the weight of x. NULL
 * for numbers and dates (WEIGHT_STRING is NULL for them), which then sort by the next key, x itself.
 */
export function collationSortKeySql(x: string): string {
  const empty = `left(${x}, 0)`;
  return `if(weight_string(${x}) is null, null, if(concat(${empty}, 'a ') = concat(${empty}, 'a'), weight_string(trim(trailing ' ' from ${x})), weight_string(${x})))`;
}

/**
 * The equality key of x for matching join values at the gateway: x's collation name, then its
 * distinct collation key, so that two keys are equal exactly when the values are equal in one
 * collation, and keys of two different collations never look alike. NULL for a NULL, a number or
 * a date (WEIGHT_STRING is NULL for them).
 */
export function joinKeySql(x: string): string {
  // The outer if() spares the shards the key of a number (whose own value is compared instead).
  return `if(weight_string(${x}) is null, null, concat(collation(${x}), ':', ${distinctCollationKeySql(x)}))`;
}
