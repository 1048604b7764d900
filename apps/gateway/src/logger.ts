/**
 * The gateway's structured log: pino, one JSON object per line (what log shippers read), or
 * pino-pretty's readable lines when stdout is a terminal. No secret reaches a line: credentials in
 * URLs are masked in every message and string field, and password fields are redacted.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { maskCredentials } from './credential-mask.js';

export { maskCredentials };

export type GatewayLog = Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;

function maskDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskCredentials(value);
  if (depth > 4 || typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) {
    const masked = new Error(maskCredentials(value.message));
    masked.name = value.name;
    if (value.stack) masked.stack = maskCredentials(value.stack);
    for (const key of ['errno', 'code', 'sqlState']) {
      const v = (value as unknown as Record<string, unknown>)[key];
      if (v !== undefined) (masked as unknown as Record<string, unknown>)[key] = v;
    }
    return masked;
  }
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v, depth + 1)]));
}

export interface LoggerOptions {
  /** Default: pretty when stdout is a TTY, JSON otherwise. */
  pretty?: boolean;
  level?: string;
  /** Default: stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    name: 'shardgate',
    level: opts.level ?? process.env.SHARDGATE_LOG_LEVEL ?? 'info',
    redact: { paths: ['password', '*.password', 'users[*].password', '*.users[*].password'], censor: '***' },
    hooks: {
      // Every message and every string field passes through the mask, whoever logs it.
      logMethod(args, method) {
        method.apply(this, args.map((a) => maskDeep(a)) as Parameters<typeof method>);
      },
    },
  };
  const usePretty = opts.pretty ?? process.stdout.isTTY === true;
  const destination = opts.destination ?? process.stdout;
  if (usePretty) {
    return pino(options, pretty({ colorize: process.stdout.isTTY === true, destination, sync: true, ignore: 'pid,hostname,name' }));
  }
  return pino(options, destination as pino.DestinationStream);
}
