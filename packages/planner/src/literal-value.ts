/**
 * Literal token text → bind value. Shared by the normalizer's token path and the INSERT rows
 * scanner, so that both give a literal the same value.
 */
import { ExactNumber, type SqlValue } from './plan-types.js';
import { decodeBits, decodeHex, decodeString, type Token } from './lexer.js';
import { planFailure } from './errors.js';

function isIntegerText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return text.length > 0;
}

/**
 * The value of a number literal's text (`digits` as the lexer scanned it, without the sign):
 * integers become BigInt, anything with a fraction or exponent an ExactNumber of its text.
 */
export function numberValue(digits: string, negative: boolean): SqlValue {
  if (digits.length <= 15) {
    // Below 10^15 (< 2^53) the digits accumulate exactly in a double, and BigInt(number) is
    // much cheaper than parsing a string.
    let n = 0;
    let i = 0;
    for (; i < digits.length; i++) {
      const c = digits.charCodeAt(i);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
    }
    if (i === digits.length && i > 0) return BigInt(negative ? -n : n);
  }
  const text = negative ? '-' + digits : digits;
  if (!isIntegerText(digits)) return new ExactNumber(text);
  return BigInt(text);
}

/** Converts a literal token's text to its value. */
export function literalValue(t: Token, negative = false): SqlValue {
  switch (t.kind) {
    case 'string':
      return decodeString(t.text);
    case 'hex':
      return decodeHex(t.text);
    case 'bit':
      return decodeBits(t.text);
    case 'number':
      return numberValue(t.text, negative);
    default:
      throw planFailure(`not a literal: ${t.text}`);
  }
}
