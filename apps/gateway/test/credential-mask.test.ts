import { describe, expect, it } from 'vitest';
import { seededRandom } from '@shardgate/test-kit/race';
import { maskCredentials } from '../src/credential-mask.js';

/** The regexes maskCredentials replaced (quadratic on long runs of letters): the oracle. */
function maskWithRegexes(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@')
    .replace(/(^|\s)(-p|--password=)('[^']*'|"[^"]*"|\S+)/g, '$1$2***')
    .replace(/(password\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s,;]+)/gi, '$1***');
}

describe('maskCredentials', () => {
  it('masks exactly what the regexes it replaced masked', () => {
    // Text made of the pieces the patterns look for, so that random strings hit their edges.
    const pieces = ['mysql', 'A', 'b', '1', '+', '.', '-', ':', '/', '://', '@', ' ', '\t', "'", '"', ',', ';', '=', '-p', '--password=', 'password', 'PassWord', 'x'];
    const random = seededRandom(11);
    for (let run = 0; run < 20_000; run++) {
      let t = '';
      for (let n = Math.floor(random() * 30); n > 0; n--) t += pieces[Math.floor(random() * pieces.length)];
      expect(maskCredentials(t), JSON.stringify(t)).toBe(maskWithRegexes(t));
    }
    for (const t of ['mysql://u:p@h mysql://v:q@h', 'a://u:p://x@h', "-p'a b' --password=\"c d\" x", 'password = "x y", password:z;', ' -p', 'password=', 'x -p -pq']) {
      expect(maskCredentials(t), t).toBe(maskWithRegexes(t));
    }
  });

  it('reads long hostile text in linear time (an error naming a 4 MB identifier)', () => {
    // The regexes took about 40 s for 100 KB of letters and grew with its square; this must
    // finish well within the test's timeout.
    const letters = 'a'.repeat(4 * 1024 * 1024);
    expect(maskCredentials(`Table 'commerce.${letters}' doesn't exist`)).toBe(`Table 'commerce.${letters}' doesn't exist`);
    for (const unit of ['a.', 'a://b:', " -p'", ' password=\'', 'x://', "password '"]) {
      const text = unit.repeat(Math.floor((1024 * 1024) / unit.length));
      expect(maskCredentials(text).length).toBeGreaterThan(0);
    }
  });
});
