#!/usr/bin/env node
/**
 * `shardgate` command line:
 *   shardgate up --config FILE                       run the gateway in the foreground
 *   shardgate plan --vschema FILE [--keyspace KS] "SQL"   print a query's plan as Vitess-style JSON
 *   shardgate plan --vschema FILE [--keyspace KS] --jsonl  one {"query": …} per stdin line
 *   shardgate --version                              print the gateway's version
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { Gateway } from './gateway.js';
import { runPlanCommand } from './plan-command.js';

const USAGE = `usage:
  shardgate up --config FILE
  shardgate plan --vschema FILE [--keyspace KS] "SQL"
  shardgate plan --vschema FILE [--keyspace KS] --jsonl   < queries.jsonl
  shardgate --version`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      return up(rest);
    case 'plan':
      return runPlanCommand(rest);
    case '--version':
    case '-v':
      console.log(gatewayVersion());
      return 0;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`shardgate: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

async function up(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, strict: true });
  if (!values.config) {
    console.error(`shardgate up: --config FILE is required\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(values.config);
  } catch (err) {
    console.error(`shardgate: ${(err as Error).message}`);
    return 1;
  }
  const log = {
    info: (m: string) => console.log(`shardgate: ${m}`),
    error: (m: string) => console.error(`shardgate: ${m}`),
  };
  const gateway = new Gateway(config, log);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      log.error(`second ${signal}: exiting now`);
      process.exit(130);
    }
    log.info(`${signal}: stopping…`);
    void gateway.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error(`stop failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const addr = await gateway.start();
    const user = config.users[0];
    const pw = user.password ? ` -p${quoteShell(user.password)}` : '';
    log.info(`MySQL protocol on ${addr.mysql.host}:${addr.mysql.port}${addr.http ? `, status on http://${addr.http.host}:${addr.http.port}/` : ''}`);
    console.log(`\nConnect with:\n  mariadb -h ${addr.mysql.host} -P ${addr.mysql.port} -u ${user.user}${pw}\n\nPress Ctrl-C to stop.`);
    return -1; // keep running until a signal
  } catch (err) {
    if (err instanceof ConfigError) log.error(err.message);
    else log.error(`failed to start: ${(err as Error).message}`);
    await gateway.stop();
    return 1;
  }
}

/** The version of the installed package: read from its package.json, which npm ships beside dist/. */
function gatewayVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function quoteShell(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`shardgate: ${(err as Error).stack ?? err}`);
    process.exitCode = 1;
  },
);
