/**
 * Seeded DML over the write fixture (random-write-fixture.ts): multi-row INSERT with explicit and
 * sequence-generated ids, INSERT IGNORE, INSERT … ON DUPLICATE KEY UPDATE, REPLACE, INSERT …
 * SELECT, UPDATE and DELETE with WHERE on the vindex column, on other columns and across shards,
 * with ORDER BY over the whole primary key and LIMIT, updates of a lookup vindex column and of
 * the primary vindex column, on sharded, reference and unsharded tables. Every statement has one
 * answer on one MariaDB: a LIMIT always comes with an ORDER BY of the whole primary key, and ids
 * are generated only where no row can fail (fresh emails), so the sequence and MariaDB's
 * AUTO_INCREMENT hand out the same ids.
 */
import { seededRandom } from '../race/seeded-random.js';
import { sqlLiteral } from './commerce-data-generator.js';
import { WRITE_CITIES, WRITE_NAMES, WRITE_NOTES, WRITE_STATUSES } from './random-write-fixture.js';

export interface RandomWrite {
  sql: string;
  /** Tables (as the fixture names them) whose contents the statement may change. */
  touches: string[];
}

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

  const shapes: (() => RandomWrite)[] = [
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
  ];
  return Array.from({ length: count }, () => pick(shapes)());
}
