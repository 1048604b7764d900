/**
 * Guards gateway-side comparison of UNION columns whose parts ran separately or on several shards:
 * each part sends, next to its values, their collation keys and the collations those keys were
 * made in. Keys compare exactly only within one collation, so every non-NULL string of a column
 * must come with a key made in the same collation as the first one; otherwise (a latin1 part with
 * a utf8mb4 part, a number with a string, a part the gateway aggregated and could not key) the
 * query is refused: MariaDB would compare them in an aggregated collation the keys do not give.
 */
import { ExecutorError, ER_NOT_SUPPORTED_YET } from '../errors.js';
import type { FieldInfo, Row } from '../types.js';
import { cellText } from './cell-compare.js';
import { valueClassOf } from './column-types.js';

/** Per query; check() runs synchronously on one row at a time. */
export class CollationTagCheck {
  private readonly first: (string | undefined)[] = [];
  private readonly stringColumns: boolean[];

  constructor(
    fields: readonly FieldInfo[],
    private readonly tagColumn: number,
    private readonly keyColumns: readonly (number | undefined)[],
  ) {
    this.stringColumns = keyColumns.map((_, i) => {
      const f = fields[i];
      const cls = f ? valueClassOf(f.columnType, f.characterSet) : 'binary';
      return cls === 'text' || cls === 'binary';
    });
  }

  check(row: Row): void {
    const tagCell = row[this.tagColumn] ?? null;
    let tags: string[] | null = null;
    for (let i = 0; i < this.keyColumns.length; i++) {
      if (!this.stringColumns[i] || row[i] === null || row[i] === undefined) continue;
      const k = this.keyColumns[i];
      if (tagCell === null || k === undefined || row[k] === null || row[k] === undefined) refuse('strings the gateway cannot compare exactly (no collation key from a part it aggregates or deduplicates itself, or a number or date among strings)');
      tags ??= cellText(tagCell).split(',');
      const tag = tags[i] ?? '';
      const seen = this.first[i];
      if (seen === undefined) this.first[i] = tag;
      else if (seen !== tag) refuse(`strings of different collations (${seen}, ${tag})`);
    }
  }
}

function refuse(what: string): never {
  throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: a UNION column comparing ${what}, across shards`);
}
