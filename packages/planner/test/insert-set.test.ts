import { describe, expect, it } from 'vitest';
import { insertSetAsValues } from '../src/insert-set.js';

describe('insertSetAsValues', () => {
  it.each([
    ["insert into t set a = 1, b = 'x'", "insert into t (a, b) VALUES (1, 'x')"],
    ['INSERT IGNORE INTO ks.t SET t.a := f(1, 2), b = (select 1, 2)', 'INSERT IGNORE INTO ks.t (t.a, b) VALUES (f(1, 2), (select 1, 2))'],
    ['replace low_priority t set a = ?, b = ?', 'replace low_priority t (a, b) VALUES (?, ?)'],
    ['insert into `t` partition (p0, p1) set `a` = 1 on duplicate key update a = a + 1', 'insert into `t` partition (p0, p1) (`a`) VALUES (1) on duplicate key update a = a + 1'],
    ["  insert into t set a = 'set', b = 2;", "  insert into t (a, b) VALUES ('set', 2) ;"],
  ])('%s', (sql, want) => {
    expect(insertSetAsValues(sql)).toBe(want);
  });

  it.each([
    'select 1',
    "insert into t values ('set')",
    "insert into t (a) values (1) on duplicate key update a = 'set'",
    'update t set a = 1',
    'insert into t set',
    'insert into t set a',
    "insert into t set a = 'unterminated",
  ])('leaves %s as it is', (sql) => {
    expect(insertSetAsValues(sql)).toBe(sql);
  });
});
