import { normalize } from '@shardgate/planner';
const sql = `select id, name from customer where id = 7 and name <> '${'x'.repeat(4*1024*1024)}'`;
for (let r = 0; r < 3; r++) {
  let t = performance.now(); const p = sql.slice(0, 4096); try { normalize(p); } catch (e) { console.log((e as Error).message.slice(0, 100)); } console.log('sliced', (performance.now() - t).toFixed(1));
  const q = (' ' + sql.slice(0, 4096)).slice(1);
  t = performance.now(); try { normalize(q); } catch (e) {} console.log('copy', (performance.now() - t).toFixed(1));
  t = performance.now(); try { normalize(Buffer.from(sql.slice(0, 4096)).toString()); } catch (e) {} console.log('fresh', (performance.now() - t).toFixed(1));
}
