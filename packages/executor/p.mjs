const {Planner}=await import('@shardgate/planner');
const {loadVSchema}=await import('@shardgate/vschema');
const vs={keyspaces:{main:{sharded:false,tables:{t:{}}},commerce:{sharded:true,vindexes:{hash:{type:'hash'}},tables:{customers:{column_vindexes:[{column:'id',name:'hash'}]},orders:{column_vindexes:[{column:'customer_id',name:'hash'}]}}}}};
const p=new Planner({vschema:loadVSchema(vs)});
for (const q of process.argv.slice(2)) { try { const r=p.planUncached(q,{keyspace:'commerce'}); console.log(JSON.stringify(r.plan.instructions).slice(0,500)); } catch(e) { console.log('ERR', e.errno, e.message.slice(0,200)); } }
