/**
 * `shardgate plan`: one query from the command line, or many from stdin with --jsonl, printed as
 * Vitess-style plan JSON; bad input is an {"error"} line, never a crash.
 */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '../dist/cli.js');
const VSCHEMA = path.resolve(here, '../../../examples/demo/vschema.json');

function planJsonl(input: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [CLI, 'plan', '--vschema', VSCHEMA, '--keyspace', 'commerce', '--jsonl']);
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out.trim().split('\n')) : reject(new Error(`exit ${code}`))));
    child.stdin.end(input);
  });
}

describe('shardgate plan', () => {
  it('runs as the bin, through its own first line (node with the young generation capped)', async () => {
    const { stdout } = await run(CLI, ['plan', '--vschema', VSCHEMA, '--keyspace', 'commerce', 'select 1 from customer where customer_id = 3']);
    expect(JSON.parse(stdout).Instructions).toMatchObject({ OperatorType: 'Route', Variant: 'EqualUnique' });
  });

  it('prints one plan in Vitess field names', async () => {
    const { stdout } = await run('node', [CLI, 'plan', '--vschema', VSCHEMA, '--keyspace', 'commerce', 'select * from customer where customer_id = 3']);
    const plan = JSON.parse(stdout);
    expect(plan.QueryType).toBe('SELECT');
    expect(plan.Instructions).toMatchObject({ OperatorType: 'Route', Variant: 'EqualUnique', Keyspace: { Name: 'commerce', Sharded: true }, Vindex: 'hash' });
    expect(plan.TablesUsed).toEqual(['commerce.customer']);
  });

  it('exits non-zero with an error object for a query it cannot plan', async () => {
    const err = await run('node', [CLI, 'plan', '--vschema', VSCHEMA, '--keyspace', 'commerce', 'select * from nope']).then(
      () => null,
      (e: { code: number; stdout: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(JSON.parse(err!.stdout).error).toMatch(/nope/);
  });

  it('plans many queries from stdin, one result line per input line', async () => {
    const lines = await planJsonl(
      [
        JSON.stringify({ query: 'select * from customer where customer_id in (1, 2)' }),
        JSON.stringify({ query: 'selec x' }),
        'not json',
        JSON.stringify({ query: 'select * from product', keyspace: 'main' }),
        JSON.stringify({ nothing: true }),
      ].join('\n') + '\n',
    );
    expect(lines.length).toBe(5);
    const [inPlan, syntax, notJson, unsharded, noQuery] = lines.map((l) => JSON.parse(l));
    expect(inPlan.Instructions.Variant).toBe('IN');
    expect(syntax.error).toMatch(/syntax/);
    expect(notJson.error).toMatch(/not JSON/);
    expect(unsharded.Instructions).toMatchObject({ Variant: 'Unsharded', Keyspace: { Name: 'main', Sharded: false } });
    expect(noQuery.error).toMatch(/no string "query"/);
  });
});
