/**
 * Exact decimal arithmetic on MySQL text values. A decimal is a scaled bigint: `12.50` is
 * { units: 1250n, scale: 2 }. Nothing here ever goes through a JS number, so DECIMAL(65,30) and
 * BIGINT UNSIGNED values keep every digit.
 */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

const DECIMAL_RE = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/;

/** Parses `-12.50`, `7`, `.5`; returns null for text that is not a plain decimal (e.g. `1e5`). */
export function parseDecimal(text: string): Decimal | null {
  return parsePlainDecimal(text) ?? parseDecimalText(text);
}

/**
 * `[-]digits[.digits]`, as the shards write numbers, read without the regex (which cost about 800
 * instructions a value, per row of every SUM and AVG); anything else (a sign `+`, blanks, no
 * digits) is undefined here and left to the regex.
 */
function parsePlainDecimal(text: string): Decimal | null | undefined {
  const n = text.length;
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  const intStart = i;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  const intEnd = i;
  let fracStart = i;
  if (i < n && text.charCodeAt(i) === 46) {
    fracStart = ++i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
  }
  if (i !== n || (intEnd === intStart && i === fracStart)) return undefined;
  const units = BigInt(intEnd === intStart ? text.slice(fracStart) : fracStart === intEnd ? text.slice(intStart, intEnd) : text.slice(intStart, intEnd) + text.slice(fracStart));
  return { units: intStart === 1 ? -units : units, scale: i - fracStart };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** parseDecimal by the regex: what parsePlainDecimal leaves. */
export function parseDecimalText(text: string): Decimal | null {
  const m = DECIMAL_RE.exec(text);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return null;
  const frac = m[3] ?? '';
  const digits = (m[2] || '0') + frac;
  const units = BigInt(digits);
  return { units: m[1] === '-' ? -units : units, scale: frac.length };
}

export function rescale(d: Decimal, scale: number): Decimal {
  if (scale === d.scale) return d;
  if (scale > d.scale) return { units: d.units * 10n ** BigInt(scale - d.scale), scale };
  return { units: roundHalfAwayFromZero(d.units, 10n ** BigInt(d.scale - scale)), scale };
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale).units + rescale(b, scale).units, scale };
}

export function compareDecimal(a: Decimal, b: Decimal): number {
  const scale = Math.max(a.scale, b.scale);
  const x = rescale(a, scale).units;
  const y = rescale(b, scale).units;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** a / b rounded half away from zero to `scale` digits (MySQL's decimal division rounding). */
export function divideDecimal(a: Decimal, b: Decimal, scale: number): Decimal {
  if (b.units === 0n) throw new RangeError('division by zero');
  // a.units/10^a.scale ÷ b.units/10^b.scale = result.units/10^scale
  // result.units = a.units * 10^(scale + b.scale - a.scale) / b.units
  const shift = scale + b.scale - a.scale;
  let num = a.units;
  let den = b.units;
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den *= 10n ** BigInt(-shift);
  return { units: roundHalfAwayFromZero(num, den), scale };
}

/**
 * a / b as MariaDB's decimal division computes it before any display rounding: truncated to
 * 9 * ceil((a.scale + b.scale + increment) / 9) fraction digits (whole 9-digit words), so that
 * 1/3*3 is 0.999999999 and shows as 1.0000.
 */
export function divideDecimalUnrounded(a: Decimal, b: Decimal, increment: number): Decimal {
  if (b.units === 0n) throw new RangeError('division by zero');
  const scale = 9 * Math.ceil((a.scale + b.scale + increment) / 9);
  const shift = scale + b.scale - a.scale;
  let num = a.units;
  let den = b.units;
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den *= 10n ** BigInt(-shift);
  // BigInt division truncates toward zero, as MariaDB's does.
  return { units: num / den, scale };
}

export function multiplyDecimal(a: Decimal, b: Decimal): Decimal {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

function roundHalfAwayFromZero(num: bigint, den: bigint): bigint {
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const q = num / den;
  const r = num % den;
  if (r === 0n) return q;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice >= den) return num < 0n ? q - 1n : q + 1n;
  return q;
}

export function formatDecimal(d: Decimal): string {
  const neg = d.units < 0n;
  let s = (neg ? -d.units : d.units).toString();
  if (d.scale > 0) {
    s = s.padStart(d.scale + 1, '0');
    s = `${s.slice(0, s.length - d.scale)}.${s.slice(s.length - d.scale)}`;
  }
  return neg ? `-${s}` : s;
}
