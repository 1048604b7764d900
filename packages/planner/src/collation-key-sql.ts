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
export function collationKeySql(x: string): string {
  const empty = `left(${x}, 0)`;
  const space = `weight_string(concat(${empty}, ' '))`;
  return `concat(char(length(${space}), concat(${empty}, 'a ') = concat(${empty}, 'a')), ${space}, weight_string(${x}))`;
}
