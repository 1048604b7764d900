/**
 * Replaces string values by their collation weight (MariaDB's own WEIGHT_STRING, asked of the
 * reference), so that answers whose choice among collation-equal strings is unspecified ('alice'
 * or 'Alice ' for a GROUP BY / DISTINCT / MIN under utf8mb4_general_ci) compare as equal, while
 * strings that differ under the collation still differ.
 */
import type { Connection } from 'mysql2/promise';
import type { ColumnInfo, NormalizedRow } from './result-normalizer.js';

const BINARY_CHARSET = 63;
// Text column types (VARCHAR, VAR_STRING, STRING, the BLOB/TEXT family).
const TEXT_TYPES = new Set([15, 249, 250, 251, 252, 253, 254]);

export class CollationFolder {
  /** Collation id → names; loaded once. */
  private collations: Map<number, { collation: string; charset: string }> | undefined;
  // Concurrency rule: entries are only ever added, and a value's weight never changes, so
  // concurrent fold() calls may both fetch the same value; the second write is identical.
  private readonly weights = new Map<string, string>();

  constructor(private readonly reference: Pick<Connection, 'query'>) {}

  /**
   * `rows` with every text value of a non-binary column replaced by `≈<hex weight>`.
   * `columnCollations` (from `COLLATION(cN)` on the reference) names each column's own collation;
   * without it the field packets' collation is used, which MariaDB sets to the connection's
   * result collation for every text column, whatever the column's own.
   */
  async fold(rows: readonly NormalizedRow[], fields: readonly ColumnInfo[], columnCollations?: readonly (string | null)[]): Promise<NormalizedRow[]> {
    const collations = await this.loadCollations();
    const byName = new Map([...collations.values()].map((c) => [c.collation, c]));
    const foldable = fields.map((f, i) => {
      const type = f.columnType ?? f.type ?? -1;
      if (f.characterSet === undefined || f.characterSet === BINARY_CHARSET || !TEXT_TYPES.has(type)) return undefined;
      const own = columnCollations?.[i];
      return own === undefined || own === null ? collations.get(f.characterSet) : byName.get(own);
    });
    const missing = new Map<string, { value: string; collation: string; charset: string }>();
    for (const row of rows) {
      row.forEach((v, i) => {
        const c = foldable[i];
        if (v === null || c === undefined) return;
        const key = `${c.collation}\u0000${v}`;
        if (!this.weights.has(key)) missing.set(key, { value: v, ...c });
      });
    }
    const pending = [...missing.entries()];
    for (let i = 0; i < pending.length; i += 64) {
      const batch = pending.slice(i, i + 64);
      // WEIGHT_STRING keeps trailing spaces, which a PAD SPACE collation ignores when it compares.
      const weigh = (m: { charset: string; collation: string }) =>
        m.collation.includes('nopad') ? `CONVERT(? USING ${m.charset}) COLLATE ${m.collation}` : `TRIM(TRAILING ' ' FROM CONVERT(? USING ${m.charset}) COLLATE ${m.collation})`;
      const sql = `SELECT ${batch.map(([, m]) => `HEX(WEIGHT_STRING(${weigh(m)}))`).join(', ')}`;
      const [result] = await this.reference.query({ sql, rowsAsArray: true }, batch.map(([, m]) => m.value));
      const values = (result as unknown[][])[0];
      batch.forEach(([key], j) => this.weights.set(key, `≈${String(values[j])}`));
    }
    return rows.map((row) =>
      row.map((v, i) => {
        const c = foldable[i];
        return v === null || c === undefined ? v : (this.weights.get(`${c.collation}\u0000${v}`) ?? v);
      }),
    );
  }

  private async loadCollations(): Promise<Map<number, { collation: string; charset: string }>> {
    if (this.collations === undefined) {
      const [rows] = await this.reference.query({ sql: 'SELECT ID, COLLATION_NAME, CHARACTER_SET_NAME FROM information_schema.COLLATIONS', rowsAsArray: true });
      this.collations = new Map((rows as [number, string, string][]).map(([id, collation, charset]) => [Number(id), { collation, charset }]));
    }
    return this.collations;
  }
}
