/**
 * Parses a byte size from configuration: `32MiB`, `512 KiB`, `1.5GiB`, `64M`, `100kB`, `4096` (bytes) or a number.
 * Binary units (KiB, MiB, GiB, TiB) and MySQL-style single letters (K, M, G, T, as in `max_allowed_packet=16M`) are
 * powers of 1024; SI units (kB, MB, GB, TB) are powers of 1000. Units are case-insensitive. Fractions are rounded down
 * to whole bytes. Throws a RangeError carrying errno 1231 / SQLSTATE 42000 (ER_WRONG_VALUE_FOR_VAR) otherwise.
 */
export function parseByteSize(input: string | number): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input >= 0) return Math.floor(input);
    throw byteSizeError(String(input));
  }
  const match = BYTE_SIZE.exec(input);
  if (match === null) throw byteSizeError(input);
  const multiplier = UNITS[match[2].toLowerCase()];
  if (multiplier === undefined) throw byteSizeError(input);
  const bytes = Math.floor(Number(match[1]) * multiplier);
  if (!Number.isSafeInteger(bytes)) throw byteSizeError(input);
  return bytes;
}

const BYTE_SIZE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$/;

const UNITS: Record<string, number | undefined> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

function byteSizeError(input: string): RangeError & { errno: number; sqlState: string } {
  const error = new RangeError(
    `invalid byte size ${JSON.stringify(input)}: write a non-negative number with an optional unit, e.g. 32MiB, 512KiB, 64M or 4096`,
  ) as RangeError & { errno: number; sqlState: string };
  error.errno = 1231;
  error.sqlState = '42000';
  return error;
}
