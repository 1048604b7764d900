import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const NATIVE_PASSWORD_PLUGIN = 'mysql_native_password';
export const SCRAMBLE_LENGTH = 20;

function sha1(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * A 20-byte scramble of printable ASCII without '\0' or '$' (as MySQL does):
 * some clients read the second scramble part as a NUL-terminated string.
 */
export function generateScramble(): Buffer {
  const s = randomBytes(SCRAMBLE_LENGTH);
  for (let i = 0; i < s.length; i++) {
    let c = 0x21 + (s[i] % 94);
    if (c === 0x24) c = 0x25;
    s[i] = c;
  }
  return s;
}

/** The client's token: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))). Empty password → empty token. */
export function nativePasswordToken(password: string, scramble: Uint8Array): Buffer {
  if (password.length === 0) return Buffer.alloc(0);
  const stage1 = sha1(Buffer.from(password, 'utf8'));
  const stage2 = sha1(stage1);
  const mix = sha1(scramble, stage2);
  for (let i = 0; i < mix.length; i++) mix[i] ^= stage1[i];
  return mix;
}

/** Constant-time check of a mysql_native_password auth response against the plaintext password. */
export function verifyNativePassword(password: string, scramble: Uint8Array, authResponse: Uint8Array): boolean {
  const expected = nativePasswordToken(password, scramble);
  if (expected.length !== authResponse.length) return false;
  if (expected.length === 0) return true;
  return timingSafeEqual(expected, authResponse);
}
