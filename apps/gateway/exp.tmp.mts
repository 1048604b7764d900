import { normalize } from '@shardgate/planner';
import { serialize, deserialize } from 'node:v8';
const n = 50000;
const sql = `select id from customer where ${Array.from({length:n},(_, i)=>`id = ${i}`).join(' or ')}`;
const t = (label: string, f: () => unknown) => { const s = performance.now(); const r = f(); console.log(label, (performance.now() - s).toFixed(1), 'ms'); return r; };
const norm: any = normalize(sql);
console.log(typeof Object.values(norm.bindVars)[3], Object.keys(norm.bindVars).slice(-3), Object.keys(norm).map(k => [k, typeof norm[k]]));
const names = Object.keys(norm.bindVars), values = Object.values(norm.bindVars);
for (let i = 0; i < 4; i++) {
const sn = serialize(norm); t('deser normalized ' + sn.length, () => deserialize(sn));
const st = serialize({...norm, bindVars: {}}); t('deser w/o bv ' + st.length, () => deserialize(st));
const sb = serialize([names, values]); t('deser names+values ' + sb.length, () => deserialize(sb));
const sv = serialize(values); t('deser values ' + sv.length, () => deserialize(sv));
const sj = serialize(names.join(',')); t('deser names joined ' + sj.length, () => (deserialize(sj) as string).split(','));
t('build obj', () => { const o: any = {}; for (let j = 0; j < names.length; j++) o[names[j]] = values[j]; return o; });
}
