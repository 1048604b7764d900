import { describe, expect, it } from 'vitest';
import { doAsSelect } from '../src/do-statement.js';

describe('doAsSelect', () => {
  it('writes DO as the SELECT of its expressions, the rest of the text as written', () => {
    expect(doAsSelect('do 1')).toBe('select 1');
    expect(doAsSelect('  DO sleep(0), (select max(id) from t where id < 3) /* x */')).toBe('  select sleep(0), (select max(id) from t where id < 3) /* x */');
  });

  it('leaves other statements, and a DO with a clause of a SELECT (no DO in MariaDB), alone', () => {
    for (const sql of ['select 1', 'delete from t', 'drop table t', 'do', 'do 1 from t', 'do 1 limit 1', 'double', 'do_x()']) {
      expect(doAsSelect(sql), sql).toBeNull();
    }
  });
});
