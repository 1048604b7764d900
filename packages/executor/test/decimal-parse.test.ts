import { describe, expect, it } from 'vitest';
import { parseDecimal, parseDecimalText } from '../src/values/decimal.js';

describe('parseDecimal', () => {
  it('reads every string as the regex does (its plain-number fast path included)', () => {
    const alphabet = ['-', '+', '.', ' ', '0', '1', '9', '5', 'e', 'x'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const inputs = ['', '-', '.', '-.', '0', '-0', '.5', '-.5', '5.', '007.250', '-12.50', '18446744073709551615', '-99999999999999999999999999999999.000000001', ' 1', '1 ', '+1', '1e5'];
    for (let k = 0; k < 20000; k++) {
      let t = '';
      const len = next() % 9;
      for (let j = 0; j < len; j++) t += alphabet[next() % alphabet.length];
      inputs.push(t);
    }
    for (const t of inputs) expect(parseDecimal(t), JSON.stringify(t)).toEqual(parseDecimalText(t));
    expect(parseDecimal('-12.50')).toEqual({ units: -1250n, scale: 2 });
  });
});
