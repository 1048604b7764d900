import { createHash, createPublicKey, generateKeyPairSync, privateDecrypt, constants, timingSafeEqual, type KeyObject } from 'node:crypto';

export const CACHING_SHA2_PLUGIN = 'caching_sha2_password';

/** Second byte of the 0x01-prefixed "more data" packets of caching_sha2_password. */
export const Sha2Status = { FAST_AUTH_SUCCESS: 0x03, PERFORM_FULL_AUTHENTICATION: 0x04 } as const;
/** The client's request for the server's RSA public key during full authentication. */
export const REQUEST_PUBLIC_KEY = 0x02;

function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** What the server caches after a full authentication: SHA256(SHA256(password)). */
export function sha2CacheEntry(password: string): Buffer {
  return sha256(sha256(Buffer.from(password, 'utf8')));
}

/** The client's fast-auth token: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce). */
export function cachingSha2Token(password: string, nonce: Uint8Array): Buffer {
  if (password.length === 0) return Buffer.alloc(0);
  const stage1 = sha256(Buffer.from(password, 'utf8'));
  const mix = sha256(sha256(stage1), nonce);
  for (let i = 0; i < mix.length; i++) mix[i] ^= stage1[i];
  return mix;
}

/** Fast auth: recovers SHA256(pw) from the token with the cached SHA256(SHA256(pw)) and checks it. */
export function verifyFastSha2(cached: Buffer, nonce: Uint8Array, token: Uint8Array): boolean {
  if (token.length !== 32) return false;
  const mix = sha256(cached, nonce);
  for (let i = 0; i < mix.length; i++) mix[i] ^= token[i];
  return timingSafeEqual(sha256(mix), cached);
}

/** Constant-time comparison of a cleartext password the client sent (full auth) with the account's. */
export function passwordMatches(expected: string, given: Buffer): boolean {
  const a = sha256(Buffer.from(expected, 'utf8'));
  const b = sha256(given);
  return timingSafeEqual(a, b);
}

/** The server's RSA key pair for full authentication over plain TCP. */
export class Sha2RsaKeys {
  readonly publicKeyPem: string;
  private constructor(private readonly privateKey: KeyObject | string | Buffer) {
    this.publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  }

  /** From a configured PEM private key, or a fresh 2048-bit pair. */
  static create(privateKeyPem?: string | Buffer): Sha2RsaKeys {
    if (privateKeyPem !== undefined) return new Sha2RsaKeys(privateKeyPem);
    return new Sha2RsaKeys(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  }

  /** Decrypts RSA-OAEP(password + NUL XOR nonce); null when the ciphertext is not valid. */
  decrypt(ciphertext: Buffer): Buffer | null {
    try {
      return privateDecrypt({ key: this.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, ciphertext);
    } catch {
      return null;
    }
  }
}

/** Undoes the XOR with the nonce (repeated) and returns the password bytes before the NUL. */
export function unmaskPassword(masked: Buffer, nonce: Uint8Array): Buffer {
  const plain = Buffer.from(masked);
  for (let i = 0; i < plain.length; i++) plain[i] ^= nonce[i % nonce.length];
  return stripNul(plain);
}

/**
 * The nonces a client may have used: our 20-byte scramble, or the scramble with the NUL that ends
 * it in an AuthSwitchRequest (PyMySQL takes the whole switch payload as the nonce).
 */
export function sha2Nonces(scramble: Uint8Array): Uint8Array[] {
  return [scramble, Buffer.concat([scramble, Buffer.alloc(1)])];
}

/** The password bytes before the terminating NUL (all of them if there is none). */
export function stripNul(b: Buffer): Buffer {
  const end = b.indexOf(0);
  return end === -1 ? b : b.subarray(0, end);
}
