#!/usr/bin/env -S node --max-semi-space-size=4 --min-semi-space-size=4
/**
 * `shardgate` command line:
 *   shardgate up --config FILE                       run the gateway in the foreground
 *   shardgate plan --vschema FILE [--keyspace KS] "SQL"   print a query's plan as Vitess-style JSON
 *   shardgate plan --vschema FILE [--keyspace KS] --jsonl  one {"query": …} per stdin line
 *   shardgate --version                              print the gateway's version
 *
 * The first line caps V8's young generation at 2 × 4 MiB semi-spaces: under load V8 grows it to
 * 2 × 16 MiB, the largest single item of the gateway's RSS (BENCHMARKS.md, memory A/B). It also
 * starts it at that size: from V8's 1 MiB start a statement-serving process, whose garbage dies
 * young, often stays below the cap and scavenges up to 4× as often, and each scavenge has a fixed
 * cost (its roots): 4-8% of a statement's instructions (BENCHMARKS.md, young generation at its cap).
 * The root package.json's `shardgate` script and scripts/start.sh run `node` themselves with the
 * same flags.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { Gateway } from './gateway.js';
import { createLogger } from './logger.js';
import { runPlanCommand } from './plan-command.js';

const USAGE = `usage:
  shardgate up --config FILE
  shardgate plan --vschema FILE [--keyspace KS] "SQL"
  shardgate plan --vschema FILE [--keyspace KS] --jsonl   < queries.jsonl
  shardgate --version`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if ((command === 'up' || command === 'plan') && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(USAGE);
    return 0;
  }
  try {
    return await runCommand(command, rest);
  } catch (err) {
    // A mistyped option is the user's mistake, not a crash: say which, without a stack trace.
    if (String((err as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS_')) {
      console.error(`shardgate: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

async function runCommand(command: string | undefined, rest: string[]): Promise<number> {
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
  const log = createLogger();
  const gateway = new Gateway(config, log);

  let signals = 0;
  const onStopSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      log.error({ signal }, 'second stop signal: exiting now');
      process.exit(130);
    }
    // SIGTERM (an orchestrator) drains: running statements get drainTimeoutMs to finish.
    // SIGINT (Ctrl-C) stops the same way; a second one exits at once.
    log.info({ signal, drainTimeoutMs: config.drainTimeoutMs }, 'stopping: draining client sessions');
    void gateway.stop().then(
      () => {
        log.info({ signal }, 'stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onStopSignal);
  process.on('SIGTERM', onStopSignal);
  // A promise that rejected with nobody listening is a bug in a path whose statement already
  // failed another way (fuzz seed 68 #4238: a lookup's derived promise during an abort). Node's
  // default would stop the process, and every client's session with it: logged and counted.
  process.on('unhandledRejection', (reason) => {
    gateway.metrics.internalErrors.inc();
    log.error({ err: reason }, 'unhandled promise rejection (a shardgate bug: please report it)');
  });
  process.on('SIGHUP', () => {
    log.info({ signal: 'SIGHUP' }, 'reloading vschema and users');
    void gateway.reload('SIGHUP');
  });

  try {
    const addr = await gateway.start();
    const user = config.users[0];
    const local = gateway.localShardSummary();
    log.info(
      {
        mysql: `${addr.mysql.host}:${addr.mysql.port}`,
        status: addr.http ? `http://${addr.http.host}:${addr.http.port}/` : null,
        localShards: local.count,
        dataDir: config.dataDir ?? null,
      },
      'shardgate started',
    );
    if (local.count > 0 && !local.durable) {
      log.warn('local shards are TEMPORARY: their data is removed when the gateway stops (set dataDir in the config to keep it)');
    } else if (local.count > 0) {
      log.info({ dataDir: config.dataDir, created: local.created, reused: local.count - local.created }, 'local shard data is kept in dataDir');
    }
    // The connect hint is for a person at a terminal: it names the password only there, never
    // when stdout is a pipe or file that a log collector may keep.
    const pw = !user.password ? '' : process.stdout.isTTY === true ? ` -p${quoteShell(user.password)}` : ' -p';
    process.stdout.write(`\nConnect with:\n  mariadb -h ${addr.mysql.host} -P ${addr.mysql.port} -u ${user.user}${pw}\n\nPress Ctrl-C to stop.\n`);
    return -1; // keep running until a signal
  } catch (err) {
    // A config problem is the operator's to fix now: on stderr, as loadConfig's errors, and logged.
    if (err instanceof ConfigError) console.error(`shardgate: ${err.message}`);
    log.error({ err }, 'failed to start');
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
