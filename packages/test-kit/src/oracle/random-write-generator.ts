/**
 * Seeded DML over the write fixture (random-write-fixture.ts): multi-row INSERT with explicit and
 * sequence-generated ids, INSERT IGNORE, INSERT … ON DUPLICATE KEY UPDATE, REPLACE, INSERT …
 * SELECT, UPDATE and DELETE with WHERE on the vindex column, on other columns and across shards,
 * with ORDER BY over the whole primary key and LIMIT, updates of a lookup vindex column and of
 * the primary vindex column, on sharded, reference and unsharded tables; writes to item, the owner
 * of a non-unique lookup_hash and of a lookup_unique kept in a sharded table; the same kinds of
 * statement as prepared statements (binary protocol) with NULL, integer, double, decimal-string,
 * boolean and Buffer parameters; explicit transactions (BEGIN or START TRANSACTION, or an
 * autocommit=0 session) of several statements, reads among them (which must see the
 * transaction's own writes), ended by COMMIT, ROLLBACK or SET autocommit = 1; and reads run in
 * an OLAP session. Every statement has one
 * answer on one MariaDB: a LIMIT always comes with an ORDER BY of the whole primary key, and ids
 * are generated only where no row can fail (fresh emails), so the sequence and MariaDB's
 * AUTO_INCREMENT hand out the same ids.
 */
import { seededRandom } from '../race/seeded-random.js';
import { sqlLiteral } from './commerce-data-generator.js';
import { WRITE_CITIES, WRITE_NAMES, WRITE_NOTES, WRITE_STATUSES, WRITE_TAGS } from './random-write-fixture.js';

export interface RandomWrite {
  sql: string;
  /** Tables (as the fixture names them) whose contents the statement may change. */
  touches: string[];
  /** Run as a prepared statement (COM_STMT_PREPARE + EXECUTE, binary protocol) with these parameters. */
  params?: unknown[];
  /** Run in an OLAP session (`SET workload = 'olap'` on the gateway first): reads only. */
  olap?: boolean;
  /**
   * A transaction is open once the statement has run (after BEGIN, inside it, or any statement
   * of an autocommit=0 session): a shard's own copy of a reference table, read directly, shows
   * only committed rows, so it is compared once the transaction ends.
   */
  inTransaction: boolean;
}

/** A parameter as mysql2 sends it: JS numbers go as DOUBLE, strings and Buffers as strings, booleans as TINY. */
type Param = number | string | boolean | null | Buffer;

/** Generates the statements of one seed, in order: each depends on the rows the earlier ones left. */
export function generateRandomWrites(seed: number, count: number): RandomWrite[] {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => random() < p;
  let fresh = 0;

  const customerId = () => 1 + int(70);
  const email = () => (chance(0.15) ? 'NULL' : chance(0.2) ? sqlLiteral(`C${1 + int(70)}@Example.com`) : sqlLiteral(`c${1 + int(70)}@example.com`));
  const money = (max: number) => `${int(max)}.${String(int(100)).padStart(2, '0')}`;
  const nameOrLong = () => (chance(0.03) ? sqlLiteral('x'.repeat(41)) : sqlLiteral(pick(WRITE_NAMES)));
  const status = () => sqlLiteral(pick(WRITE_STATUSES));
  const note = () => (chance(0.03) ? sqlLiteral('n'.repeat(33)) : sqlLiteral(pick(WRITE_NOTES)));
  const rows = <T>(n: number, row: () => T) => Array.from({ length: n }, row);
  const orderRow = () => `(${customerId()}, ${1 + int(45)}, ${chance(0.2) ? 'NULL' : 1 + int(8)}, ${status()}, ${chance(0.1) ? 'NULL' : money(500)}, ${note()})`;
  const ORDER_COLUMNS = 'customer_id, id, product_id, status, total, note';

  const orderWhere = (): string =>
    pick([
      () => `customer_id = ${customerId()}`,
      () => `customer_id IN (${customerId()}, ${customerId()}, ${customerId()})`,
      () => `customer_id = ${customerId()} AND id = ${1 + int(45)}`,
      () => `id = ${1 + int(45)}`,
      () => `status = ${status()}`,
      () => `total > ${money(500)}`,
      () => `note IS NULL`,
      () => `product_id BETWEEN ${1 + int(4)} AND ${4 + int(4)}`,
      () => `customer_id > ${customerId()} AND status <> ${status()}`,
    ])();
  const orderSet = (): string =>
    pick([
      () => `status = ${status()}`,
      () => `total = total + ${money(20)}`,
      () => `note = ${note()}`,
      () => `note = CONCAT(status, '!')`,
      () => `total = NULL, note = ${note()}`,
      () => `status = status`,
      () => `product_id = ${1 + int(8)}`,
    ])();
  const customerWhere = (): string =>
    pick([
      () => `id = ${customerId()}`,
      () => `id IN (${customerId()}, ${customerId()})`,
      () => `city = ${sqlLiteral(pick(WRITE_CITIES.filter((c) => c !== null)))}`,
      () => `name = ${sqlLiteral(pick(WRITE_NAMES))}`,
      () => `email = ${email() === 'NULL' ? sqlLiteral('c1@example.com') : sqlLiteral(`c${1 + int(70)}@example.com`)}`,
      () => `balance < 0`,
    ])();
  const limitTail = (pk: string) => (chance(0.35) ? ` ORDER BY ${pk} LIMIT ${1 + int(4)}` : '');
  const itemId = () => 1 + int(40);
  const tag = () => sqlLiteral(pick(WRITE_TAGS));
  const code = () => (chance(0.15) ? 'NULL' : sqlLiteral(`${pick(['k', 'K'])}${1 + int(40)}${chance(0.1) ? ' ' : ''}`));
  const itemRow = () => `(${itemId()}, ${tag()}, ${code()}, ${int(10)})`;
  const itemWhere = (): string =>
    pick([
      () => `id = ${itemId()}`,
      () => `id IN (${itemId()}, ${itemId()}, ${itemId()})`,
      () => `tag = ${sqlLiteral(pick(WRITE_TAGS.filter((t) => t !== null)))}`,
      () => `tag IN (${sqlLiteral(pick(WRITE_TAGS.filter((t) => t !== null)))}, ${sqlLiteral(pick(WRITE_TAGS.filter((t) => t !== null)))})`,
      () => `code = ${sqlLiteral(`k${1 + int(40)}`)}`,
      () => `qty > ${int(10)}`,
      () => `tag IS NULL`,
    ])();

  // Prepared-statement parameters of each kind mysql2 sends: a JS number is a DOUBLE (an integer
  // one too), a decimal string a string the server converts, a boolean a TINY, a Buffer bytes.
  const intParam = (n: number): Param => (chance(0.25) ? String(n) : n);
  const moneyParam = (max: number): Param => pick<() => Param>([() => money(max), () => Number(money(max)), () => int(max), () => `${int(max)}.${int(1000)}`, () => int(max) + int(1000) / 1000])();
  const maybeNull = (p: number, v: () => Param): Param => (chance(p) ? null : v());
  const textParam = (xs: readonly (string | null)[]): Param => {
    const v = pick(xs);
    return v === null ? null : chance(0.15) ? Buffer.from(v) : v;
  };
  const orderParams = (): Param[] => [intParam(customerId()), intParam(1 + int(45)), maybeNull(0.2, () => intParam(1 + int(8))), textParam(WRITE_STATUSES), maybeNull(0.1, () => moneyParam(500)), textParam(WRITE_NOTES)];
  const placeholders = (rowCount: number, width: number) => Array.from({ length: rowCount }, () => `(${Array(width).fill('?').join(', ')})`).join(', ');

  const shapes: (() => Omit<RandomWrite, 'inTransaction'>)[] = [
    // customer: explicit ids (some taken, some emails taken: duplicate-key errors on both sides).
    () => ({
      sql: `INSERT INTO customer (id, name, email, city, balance) VALUES ${rows(1 + int(3), () => `(${customerId()}, ${nameOrLong()}, ${email()}, ${sqlLiteral(pick(WRITE_CITIES))}, ${chance(0.2) ? 'NULL' : money(900)})`).join(', ')}`,
      touches: ['customer'],
    }),
    // customer: ids from the sequence (fresh emails, so no row fails and no id is lost).
    () => ({
      sql: `INSERT INTO customer (name, email, city) VALUES ${rows(1 + int(3), () => `(${sqlLiteral(pick(WRITE_NAMES))}, ${chance(0.2) ? 'NULL' : sqlLiteral(`new${++fresh}@example.com`)}, ${sqlLiteral(pick(WRITE_CITIES))})`).join(', ')}`,
      touches: ['customer'],
    }),
    () => ({ sql: `UPDATE customer SET ${pick(['city = ' + sqlLiteral(pick(WRITE_CITIES)), 'balance = balance + 1.25', 'name = ' + nameOrLong()])} WHERE ${customerWhere()}`, touches: ['customer'] }),
    // The lookup vindex column: its lookup row moves with it.
    () => ({ sql: `UPDATE customer SET email = ${email()} WHERE ${customerWhere()}${limitTail('id')}`, touches: ['customer'] }),
    () => ({ sql: `DELETE FROM customer WHERE ${customerWhere()}${limitTail('id DESC')}`, touches: ['customer'] }),
    // The primary vindex column.
    () => ({ sql: `UPDATE customer SET id = ${customerId()} WHERE id = ${customerId()}`, touches: ['customer'] }),
    // orders
    () => ({ sql: `INSERT INTO orders (${ORDER_COLUMNS}) VALUES ${rows(1 + int(4), orderRow).join(', ')}`, touches: ['orders'] }),
    () => ({ sql: `INSERT IGNORE INTO orders (${ORDER_COLUMNS}) VALUES ${rows(1 + int(4), orderRow).join(', ')}`, touches: ['orders'] }),
    () => ({
      sql: `INSERT INTO orders (${ORDER_COLUMNS}) VALUES ${rows(1 + int(3), orderRow).join(', ')} ON DUPLICATE KEY UPDATE ${pick(['status = VALUES(status)', 'total = total + 1', 'note = VALUES(note), total = VALUES(total)', 'status = status'])}`,
      touches: ['orders'],
    }),
    () => ({ sql: `REPLACE INTO orders (${ORDER_COLUMNS}) VALUES ${rows(1 + int(3), orderRow).join(', ')}`, touches: ['orders'] }),
    () => ({ sql: `UPDATE orders SET ${orderSet()} WHERE ${orderWhere()}${limitTail(pick(['customer_id, id', 'customer_id DESC, id DESC']))}`, touches: ['orders'] }),
    () => ({ sql: `DELETE FROM orders WHERE ${orderWhere()}${limitTail(pick(['customer_id, id', 'customer_id DESC, id DESC']))}`, touches: ['orders'] }),
    () => ({ sql: `UPDATE orders SET customer_id = ${customerId()} WHERE ${orderWhere()}`, touches: ['orders'] }),
    () => ({
      sql: `INSERT INTO orders (${ORDER_COLUMNS}) SELECT customer_id, id + ${50 + int(50)}, product_id, status, total, note FROM orders WHERE ${orderWhere()}`,
      touches: ['orders'],
    }),
    () => ({
      sql: `INSERT INTO orders (${ORDER_COLUMNS}) SELECT id, ${1 + int(45)}, NULL, 'new', balance, name FROM customer WHERE ${customerWhere()}`,
      touches: ['orders'],
    }),
    // product: a reference table, one copy per shard.
    () => ({
      sql: `INSERT INTO product (id, sku, price, stock) VALUES ${rows(1 + int(2), () => `(${1 + int(10)}, 'SKU-${1 + int(10)}', ${chance(0.2) ? 'NULL' : money(90)}, ${int(20)})`).join(', ')}`,
      touches: ['product'],
    }),
    () => ({
      sql: `INSERT INTO product (id, sku, price, stock) VALUES (${1 + int(10)}, 'SKU-${1 + int(10)}', ${money(90)}, ${int(20)}) ON DUPLICATE KEY UPDATE ${pick(['stock = stock + VALUES(stock)', 'price = VALUES(price)', 'stock = stock'])}`,
      touches: ['product'],
    }),
    () => ({ sql: `REPLACE INTO product (id, sku, price, stock) VALUES (${1 + int(10)}, 'SKU-${1 + int(10)}', ${money(90)}, ${int(20)})`, touches: ['product'] }),
    () => ({ sql: `INSERT IGNORE INTO product (id, sku, price, stock) VALUES (${1 + int(10)}, 'SKU-${1 + int(10)}', ${money(90)}, ${int(20)})`, touches: ['product'] }),
    () => ({
      sql: `UPDATE product SET ${pick(['stock = stock + 1', 'price = price * 2', 'price = NULL', `sku = 'SKU-${1 + int(10)}'`])} WHERE ${pick([`id = ${1 + int(10)}`, `price > ${money(60)}`, `stock < ${int(20)}`, 'price IS NULL'])}${limitTail('id')}`,
      touches: ['product'],
    }),
    () => ({ sql: `DELETE FROM product WHERE ${pick([`id = ${1 + int(10)}`, `stock < ${int(8)}`, `price > ${money(80)}`])}${limitTail('id DESC')}`, touches: ['product'] }),
    () => ({ sql: `INSERT INTO product (id, sku, price, stock) SELECT id + 10, CONCAT(sku, 'x'), price, stock FROM product WHERE id = ${1 + int(10)}`, touches: ['product'] }),
    // main.warehouse: the unsharded keyspace.
    () => ({ sql: `UPDATE main.warehouse SET stock = stock ${pick(['+', '-'])} ${1 + int(5)} WHERE ${pick([`id = ${1 + int(5)}`, `stock > ${int(40)}`])}`, touches: ['main.warehouse'] }),
    () => ({
      sql: `INSERT INTO main.warehouse (id, name, stock) VALUES (${1 + int(6)}, ${sqlLiteral(pick(['North', 'South', 'east']))}, ${int(50)}) ON DUPLICATE KEY UPDATE stock = stock + 1`,
      touches: ['main.warehouse'],
    }),
    () => ({ sql: `DELETE FROM main.warehouse WHERE id = ${1 + int(6)}`, touches: ['main.warehouse'] }),
    // item: owner of a non-unique lookup_hash (tag) and a lookup_unique in a sharded table (code).
    () => ({ sql: `INSERT INTO item (id, tag, code, qty) VALUES ${rows(1 + int(3), itemRow).join(', ')}`, touches: ['item'] }),
    () => ({ sql: `INSERT IGNORE INTO item (id, tag, code, qty) VALUES ${rows(1 + int(3), itemRow).join(', ')}`, touches: ['item'] }),
    () => ({ sql: `INSERT INTO item (id, tag, code, qty) VALUES ${itemRow()} ON DUPLICATE KEY UPDATE ${pick(['qty = qty + 1', 'qty = VALUES(qty)'])}`, touches: ['item'] }),
    () => ({ sql: `UPDATE item SET tag = ${tag()} WHERE ${itemWhere()}${limitTail('id')}`, touches: ['item'] }),
    () => ({ sql: `UPDATE item SET code = ${code()} WHERE id = ${itemId()}`, touches: ['item'] }),
    () => ({ sql: `UPDATE item SET qty = qty + 1 WHERE ${itemWhere()}`, touches: ['item'] }),
    () => ({ sql: `DELETE FROM item WHERE ${itemWhere()}${limitTail('id DESC')}`, touches: ['item'] }),
  ];

  // The same kinds of statement, prepared: parameters in values, SET, WHERE, IN lists and LIMIT.
  const preparedShapes: (() => Omit<RandomWrite, 'inTransaction'>)[] = [
    () => {
      const n = 1 + int(3);
      return { sql: `INSERT INTO orders (${ORDER_COLUMNS}) VALUES ${placeholders(n, 6)}`, params: rows(n, orderParams).flat(), touches: ['orders'] };
    },
    () => ({ sql: `INSERT IGNORE INTO orders (${ORDER_COLUMNS}) VALUES ${placeholders(1, 6)}`, params: orderParams(), touches: ['orders'] }),
    () => ({ sql: `INSERT INTO orders (${ORDER_COLUMNS}) VALUES ${placeholders(1, 6)} ON DUPLICATE KEY UPDATE total = ?`, params: [...orderParams(), maybeNull(0.2, () => moneyParam(500))], touches: ['orders'] }),
    () => ({ sql: 'UPDATE orders SET total = ?, note = ? WHERE customer_id = ? AND id = ?', params: [maybeNull(0.2, () => moneyParam(500)), textParam(WRITE_NOTES), intParam(customerId()), intParam(1 + int(45))], touches: ['orders'] }),
    () => ({ sql: 'UPDATE orders SET status = ? WHERE customer_id IN (?, ?) ORDER BY customer_id, id LIMIT ?', params: [textParam(WRITE_STATUSES.filter((x) => x !== null)), intParam(customerId()), intParam(customerId()), 1 + int(3)], touches: ['orders'] }),
    () => ({ sql: 'UPDATE orders SET total = total + ? WHERE status = ?', params: [moneyParam(20), textParam(WRITE_STATUSES)], touches: ['orders'] }),
    () => ({ sql: 'DELETE FROM orders WHERE customer_id = ? AND total > ?', params: [intParam(customerId()), moneyParam(500)], touches: ['orders'] }),
    () => ({ sql: 'DELETE FROM orders WHERE note = ? ORDER BY customer_id DESC, id DESC LIMIT ?', params: [textParam(WRITE_NOTES), 1 + int(3)], touches: ['orders'] }),
    () => ({ sql: 'UPDATE orders SET customer_id = ? WHERE customer_id = ? AND id = ?', params: [intParam(customerId()), intParam(customerId()), intParam(1 + int(45))], touches: ['orders'] }),
    () => ({
      sql: 'INSERT INTO customer (id, name, email, city, balance) VALUES (?, ?, ?, ?, ?)',
      params: [intParam(customerId()), textParam(WRITE_NAMES), chance(0.2) ? null : `${pick(['c', 'C'])}${1 + int(70)}@example.com`, textParam(WRITE_CITIES), maybeNull(0.2, () => moneyParam(900))],
      touches: ['customer'],
    }),
    () => ({ sql: 'INSERT INTO customer (name, email, city) VALUES (?, ?, ?)', params: [textParam(WRITE_NAMES), chance(0.2) ? null : `new${++fresh}@example.com`, textParam(WRITE_CITIES)], touches: ['customer'] }),
    () => ({ sql: 'UPDATE customer SET email = ? WHERE id = ?', params: [chance(0.2) ? null : `c${1 + int(70)}@example.com`, intParam(customerId())], touches: ['customer'] }),
    () => ({ sql: 'UPDATE customer SET balance = balance + ? WHERE email = ?', params: [moneyParam(50), `c${1 + int(70)}@example.com`], touches: ['customer'] }),
    () => ({ sql: 'DELETE FROM customer WHERE id = ? OR email = ?', params: [intParam(customerId()), `c${1 + int(70)}@example.com`], touches: ['customer'] }),
    () => ({ sql: 'INSERT INTO item (id, tag, code, qty) VALUES (?, ?, ?, ?)', params: [intParam(itemId()), textParam(WRITE_TAGS), chance(0.15) ? null : `${pick(['k', 'K'])}${1 + int(40)}`, chance(0.2) ? true : int(10)], touches: ['item'] }),
    () => ({ sql: 'UPDATE item SET tag = ?, qty = ? WHERE tag = ?', params: [textParam(WRITE_TAGS), int(10), textParam(WRITE_TAGS.filter((t) => t !== null))], touches: ['item'] }),
    () => ({ sql: 'UPDATE item SET code = ? WHERE id = ?', params: [chance(0.15) ? null : `${pick(['k', 'K'])}${1 + int(40)}`, intParam(itemId())], touches: ['item'] }),
    () => ({ sql: 'DELETE FROM item WHERE code = ? OR tag = ?', params: [`k${1 + int(40)}`, textParam(WRITE_TAGS.filter((t) => t !== null))], touches: ['item'] }),
    () => ({ sql: 'UPDATE product SET price = ?, stock = stock + ? WHERE id = ?', params: [maybeNull(0.2, () => moneyParam(90)), intParam(int(5)), intParam(1 + int(10))], touches: ['product'] }),
    () => ({ sql: 'INSERT INTO product (id, sku, price, stock) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE stock = stock + ?', params: [intParam(1 + int(10)), `SKU-${1 + int(10)}`, maybeNull(0.2, () => moneyParam(90)), int(20), int(3)], touches: ['product'] }),
    () => ({ sql: 'UPDATE main.warehouse SET stock = stock + ? WHERE id = ?', params: [intParam(int(5)), intParam(1 + int(5))], touches: ['main.warehouse'] }),
  ];

  // Reads whose answers are compared: inside a transaction they must see its own writes. Each is
  // ordered by a unique key, or one row, so it has one answer.
  const someTag = () => sqlLiteral(pick(WRITE_TAGS.filter((t) => t !== null)));
  const readShapes: (() => Omit<RandomWrite, 'inTransaction'>)[] = [
    () => ({ sql: `SELECT * FROM orders WHERE customer_id = ${customerId()} ORDER BY id`, touches: [] }),
    () => ({ sql: `SELECT * FROM orders WHERE ${orderWhere()} ORDER BY customer_id, id`, touches: [] }),
    () => ({ sql: 'SELECT COUNT(*), SUM(total), MAX(id) FROM orders', touches: [] }),
    () => ({ sql: `SELECT * FROM customer WHERE ${customerWhere()} ORDER BY id`, touches: [] }),
    () => ({ sql: `SELECT * FROM item WHERE ${itemWhere()} ORDER BY id`, touches: [] }),
    () => ({ sql: `SELECT COUNT(*), SUM(qty) FROM item WHERE tag = ${someTag()}`, touches: [] }),
    () => ({ sql: `SELECT id, tag, code FROM item WHERE code = ${sqlLiteral(`k${1 + int(40)}`)}`, touches: [] }),
    () => ({ sql: 'SELECT id, price, stock FROM product ORDER BY id', touches: [] }),
    () => ({ sql: 'SELECT * FROM main.warehouse ORDER BY id', touches: [] }),
    () => ({ sql: 'SELECT * FROM orders WHERE customer_id = ? ORDER BY id', params: [intParam(customerId())], touches: [] }),
    () => ({ sql: 'SELECT id, tag, qty FROM item WHERE tag = ? ORDER BY id', params: [textParam(WRITE_TAGS.filter((t) => t !== null))], touches: [] }),
  ];

  const one = (): Omit<RandomWrite, 'inTransaction'> => {
    const r = random();
    if (r < 0.2) return pick(preparedShapes)();
    if (r < 0.3) {
      const read = pick(readShapes)();
      return chance(0.5) ? { ...read, olap: true } : read;
    }
    return pick(shapes)();
  };

  const out: RandomWrite[] = [];
  let autocommitOff = false;
  while (out.length < count) {
    if (autocommitOff || !chance(0.08)) {
      // Outside a transaction (or, autocommit off, in the one every statement opens).
      out.push({ ...one(), inTransaction: autocommitOff });
      if (autocommitOff && chance(0.15)) {
        // SET autocommit = 1 commits the open transaction, as COMMIT does.
        const end = pick(['COMMIT', 'ROLLBACK', 'SET autocommit = 1']);
        out.push({ sql: end, touches: [], inTransaction: false });
        markEnd(out);
        // After COMMIT or ROLLBACK the session stays in autocommit=0 (the next statement opens
        // another transaction) until SET autocommit = 1.
        if (end === 'SET autocommit = 1' || chance(0.5)) {
          if (end !== 'SET autocommit = 1') out.push({ sql: 'SET autocommit = 1', touches: [], inTransaction: false });
          autocommitOff = false;
        }
      }
      continue;
    }
    const opener = pick(['BEGIN', 'START TRANSACTION', 'SET autocommit = 0']);
    out.push({ sql: opener, touches: [], inTransaction: true });
    if (opener.startsWith('SET')) {
      autocommitOff = true;
      continue;
    }
    for (let n = 2 + int(6); n > 0; n--) out.push({ ...one(), inTransaction: true });
    out.push({ sql: pick(['COMMIT', 'ROLLBACK', 'ROLLBACK', 'COMMIT']), touches: [], inTransaction: false });
    markEnd(out);
  }
  return out;
}

/**
 * The statement that ends a transaction (the last of `out`) touches every table a statement of it
 * touched: after a ROLLBACK they must all be back as they were, and after either end the shards'
 * own copies of a reference table are compared again.
 */
function markEnd(out: RandomWrite[]): void {
  const end = out[out.length - 1]!;
  const touched = new Set<string>();
  for (let i = out.length - 2; i >= 0 && out[i]!.inTransaction; i--) for (const t of out[i]!.touches) touched.add(t);
  end.touches = [...touched];
}
