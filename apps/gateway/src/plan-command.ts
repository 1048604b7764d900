/**
 * `shardgate plan`: prints plans as Vitess-style JSON, one query from the command line or many
 * from stdin (`--jsonl`), so thousands of cases run in one process with one warm planner.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Planner, toVitessJson } from '@shardgate/planner';
import { loadVSchema } from '@shardgate/vschema';

export async function runPlanCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { vschema: { type: 'string' }, keyspace: { type: 'string' }, jsonl: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (!values.vschema || (!values.jsonl && positionals.length !== 1)) {
    console.error('usage: shardgate plan --vschema FILE [--keyspace KS] ("SQL" | --jsonl)');
    return 2;
  }
  let planner: Planner;
  try {
    planner = new Planner({ vschema: loadVSchema(JSON.parse(readFileSync(values.vschema, 'utf8'))) });
  } catch (err) {
    console.log(JSON.stringify({ error: `vschema ${values.vschema}: ${(err as Error).message}` }));
    return 1;
  }
  const keyspace = values.keyspace ?? null;
  if (!values.jsonl) {
    const result = await planOne(planner, positionals[0], keyspace);
    console.log(JSON.stringify(result, null, 2));
    return 'error' in result ? 1 : 0;
  }
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let query: unknown;
    let ks = keyspace;
    try {
      const parsed = JSON.parse(line) as { query?: unknown; keyspace?: unknown };
      query = parsed.query;
      if (typeof parsed.keyspace === 'string') ks = parsed.keyspace;
    } catch {
      process.stdout.write(JSON.stringify({ error: 'input line is not JSON' }) + '\n');
      continue;
    }
    if (typeof query !== 'string') {
      process.stdout.write(JSON.stringify({ error: 'input object has no string "query"' }) + '\n');
      continue;
    }
    process.stdout.write(JSON.stringify(await planOne(planner, query, ks)) + '\n');
  }
  return 0;
}

async function planOne(planner: Planner, sql: string, keyspace: string | null): Promise<object> {
  try {
    const planned = await planner.plan(sql, { keyspace });
    return toVitessJson(planned.plan);
  } catch (err) {
    return { error: (err as Error).message };
  }
}
