import desjs from 'des.js';

/*
 * Single-block DES with the all-zero key: Vitess's `hash` vindex is exactly this applied to the
 * big-endian uint64 (crypto/des NewCipher(make([]byte, 8)), go/vt/vtgate/vindexes/hash.go).
 *
 * Node's OpenSSL 3 no longer ships DES, and des.js allocates on every call, so this file builds its
 * own table-driven cipher once at load time FROM des.js's primitive helpers (the S-boxes, P, IP and
 * the key schedule are never retyped here): byte-wise tables for IP and IP^-1, and "SP" tables
 * that fuse each S-box with the P permutation. A block then costs 16 lookups for the permutations
 * plus 8 per round, with no allocation.
 */

const u = desjs.utils;

// IP / IP^-1 are bit permutations, hence linear over XOR: the image of a 64-bit word is the XOR of
// the images of its 8 bytes. Index: byte position * 256 + byte value.
const IP_HI = new Uint32Array(8 * 256);
const IP_LO = new Uint32Array(8 * 256);
const FP_HI = new Uint32Array(8 * 256);
const FP_LO = new Uint32Array(8 * 256);
// S-box j fused with P: SP[j * 64 + six_bits] = P(S_j(six_bits) placed in nibble j).
const SP = new Uint32Array(8 * 64);
// Six-bit round-key chunks: ROUND_KEY[round * 8 + j].
const ROUND_KEY = new Uint8Array(16 * 8);

(function buildTables(): void {
  const tmp = [0, 0];
  for (let p = 0; p < 8; p++) {
    for (let v = 0; v < 256; v++) {
      const shifted = (v << (24 - 8 * (p & 3))) >>> 0;
      const inL = p < 4 ? shifted : 0;
      const inR = p < 4 ? 0 : shifted;
      u.ip(inL, inR, tmp, 0);
      IP_HI[p * 256 + v] = tmp[0];
      IP_LO[p * 256 + v] = tmp[1];
      u.rip(inL, inR, tmp, 0);
      FP_HI[p * 256 + v] = tmp[0];
      FP_LO[p * 256 + v] = tmp[1];
    }
  }
  for (let j = 0; j < 8; j++) {
    for (let x = 0; x < 64; x++) {
      const placed = (x << (18 - 6 * (j & 3))) >>> 0;
      const s = j < 4 ? u.substitute(placed, 0) : u.substitute(0, placed);
      const nibbleShift = 28 - 4 * j;
      const nibble = (s >>> nibbleShift) & 0xf;
      SP[j * 64 + x] = u.permute((nibble << nibbleShift) >>> 0);
    }
  }
  // Key schedule for the all-zero key (the only key Vitess uses), derived with des.js's PC-1,
  // rotations and PC-2 so that the table stays correct by construction.
  const shifts = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
  u.pc1(0, 0, tmp, 0);
  let kL = tmp[0];
  let kR = tmp[1];
  for (let r = 0; r < 16; r++) {
    kL = u.r28shl(kL, shifts[r]);
    kR = u.r28shl(kR, shifts[r]);
    u.pc2(kL, kR, tmp, 0);
    for (let j = 0; j < 4; j++) {
      ROUND_KEY[r * 8 + j] = (tmp[0] >>> (18 - 6 * j)) & 0x3f;
      ROUND_KEY[r * 8 + 4 + j] = (tmp[1] >>> (18 - 6 * j)) & 0x3f;
    }
  }
})();

/** The DES f-function of round `k` (k = round * 8) on the 32-bit half `R`. */
function f(R: number, k: number): number {
  // Chunk j of the expansion E(R) is R rotated left by 4j-1 (mod 32), top six bits.
  return (
    SP[(((R << 31) | (R >>> 1)) >>> 26) ^ ROUND_KEY[k]] ^
    SP[64 + ((((R << 3) | (R >>> 29)) >>> 26) ^ ROUND_KEY[k + 1])] ^
    SP[128 + ((((R << 7) | (R >>> 25)) >>> 26) ^ ROUND_KEY[k + 2])] ^
    SP[192 + ((((R << 11) | (R >>> 21)) >>> 26) ^ ROUND_KEY[k + 3])] ^
    SP[256 + ((((R << 15) | (R >>> 17)) >>> 26) ^ ROUND_KEY[k + 4])] ^
    SP[320 + ((((R << 19) | (R >>> 13)) >>> 26) ^ ROUND_KEY[k + 5])] ^
    SP[384 + ((((R << 23) | (R >>> 9)) >>> 26) ^ ROUND_KEY[k + 6])] ^
    SP[448 + ((((R << 27) | (R >>> 5)) >>> 26) ^ ROUND_KEY[k + 7])]
  );
}

/**
 * Encrypt (or decrypt) the 64-bit block hi:lo and write the 8 result bytes to out[off..off+8).
 * Decryption is the same network with the round keys in reverse order.
 */
export function desBlock(hi: number, lo: number, out: Uint8Array, off: number, decrypt = false): void {
  let l =
    IP_HI[hi >>> 24] ^
    IP_HI[256 + ((hi >>> 16) & 255)] ^
    IP_HI[512 + ((hi >>> 8) & 255)] ^
    IP_HI[768 + (hi & 255)] ^
    IP_HI[1024 + (lo >>> 24)] ^
    IP_HI[1280 + ((lo >>> 16) & 255)] ^
    IP_HI[1536 + ((lo >>> 8) & 255)] ^
    IP_HI[1792 + (lo & 255)];
  let r =
    IP_LO[hi >>> 24] ^
    IP_LO[256 + ((hi >>> 16) & 255)] ^
    IP_LO[512 + ((hi >>> 8) & 255)] ^
    IP_LO[768 + (hi & 255)] ^
    IP_LO[1024 + (lo >>> 24)] ^
    IP_LO[1280 + ((lo >>> 16) & 255)] ^
    IP_LO[1536 + ((lo >>> 8) & 255)] ^
    IP_LO[1792 + (lo & 255)];
  if (decrypt) {
    for (let k = 120; k >= 0; k -= 8) {
      const t = r;
      r = l ^ f(r, k);
      l = t;
    }
  } else {
    for (let k = 0; k < 128; k += 8) {
      const t = r;
      r = l ^ f(r, k);
      l = t;
    }
  }
  // Undo the last swap: the output permutation takes (R16, L16).
  const a = r >>> 0;
  const b = l >>> 0;
  const oh =
    FP_HI[a >>> 24] ^
    FP_HI[256 + ((a >>> 16) & 255)] ^
    FP_HI[512 + ((a >>> 8) & 255)] ^
    FP_HI[768 + (a & 255)] ^
    FP_HI[1024 + (b >>> 24)] ^
    FP_HI[1280 + ((b >>> 16) & 255)] ^
    FP_HI[1536 + ((b >>> 8) & 255)] ^
    FP_HI[1792 + (b & 255)];
  const ol =
    FP_LO[a >>> 24] ^
    FP_LO[256 + ((a >>> 16) & 255)] ^
    FP_LO[512 + ((a >>> 8) & 255)] ^
    FP_LO[768 + (a & 255)] ^
    FP_LO[1024 + (b >>> 24)] ^
    FP_LO[1280 + ((b >>> 16) & 255)] ^
    FP_LO[1536 + ((b >>> 8) & 255)] ^
    FP_LO[1792 + (b & 255)];
  out[off] = oh >>> 24;
  out[off + 1] = oh >>> 16;
  out[off + 2] = oh >>> 8;
  out[off + 3] = oh;
  out[off + 4] = ol >>> 24;
  out[off + 5] = ol >>> 16;
  out[off + 6] = ol >>> 8;
  out[off + 7] = ol;
}
