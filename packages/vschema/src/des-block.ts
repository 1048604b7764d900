import desjs from 'des.js';

/*
 * Single-block DES with the all-zero key: Vitess's `hash` vindex is exactly this applied to the
 * big-endian uint64 (crypto/des NewCipher(make([]byte, 8)), go/vt/vtgate/vindexes/hash.go).
 *
 * Node's OpenSSL 3 no longer ships DES, and des.js allocates on every call, so this file builds its
 * own table-driven cipher once at load time FROM des.js's primitive helpers (the S-boxes, P and the
 * key schedule are never retyped here): "SP" tables that fuse each S-box with the P permutation.
 * IP and IP^-1 are delta-swap networks. A block then costs 8 lookups per round (two rotations and
 * two key XORs, see f), with no allocation.
 */

const u = desjs.utils;

// S-box j fused with P: SP[j * 64 + six_bits] = P(S_j(six_bits) placed in nibble j). Int32Array so
// that every load stays a small integer in optimized code (Uint32 values above 2^31 would not).
const SP = new Int32Array(8 * 64);
// Six-bit round-key chunks: ROUND_KEY[round * 8 + j] (only used to build KEY_EVEN / KEY_ODD).
const ROUND_KEY = new Uint8Array(16 * 8);
// Round keys packed for the two-word round below: KEY_EVEN[round] holds chunks 0, 2, 4, 6 in the low
// six bits of bytes 3, 2, 1, 0; KEY_ODD[round] holds chunks 1, 3, 5, 7 the same way.
const KEY_EVEN = new Int32Array(16);
const KEY_ODD = new Int32Array(16);

(function buildTables(): void {
  const tmp = [0, 0];
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
    for (let m = 0; m < 4; m++) {
      KEY_EVEN[r] |= ROUND_KEY[r * 8 + 2 * m] << (24 - 8 * m);
      KEY_ODD[r] |= ROUND_KEY[r * 8 + 2 * m + 1] << (24 - 8 * m);
    }
  }
})();

/**
 * The DES f-function of round `r` on the 32-bit half `R`. Chunk j of the expansion E(R) is the low
 * six bits of R rotated right by 27 - 4j, so R rotated right by 3 holds the even chunks (0, 2, 4, 6)
 * at byte offsets 24, 16, 8, 0 and R rotated left by 1 holds the odd ones: two rotations and two
 * key XORs per round instead of eight of each.
 */
function f(R: number, r: number): number {
  const x = ((R >>> 3) | (R << 29)) ^ KEY_EVEN[r];
  const y = ((R << 1) | (R >>> 31)) ^ KEY_ODD[r];
  return (
    SP[(x >>> 24) & 63] ^
    SP[128 + ((x >>> 16) & 63)] ^
    SP[256 + ((x >>> 8) & 63)] ^
    SP[384 + (x & 63)] ^
    SP[64 + ((y >>> 24) & 63)] ^
    SP[192 + ((y >>> 16) & 63)] ^
    SP[320 + ((y >>> 8) & 63)] ^
    SP[448 + (y & 63)]
  );
}

/**
 * Encrypt (or decrypt) the 64-bit block hi:lo and write the 8 result bytes to out[off..off+8).
 * Decryption is the same network with the round keys in reverse order.
 */
export function desBlock(hi: number, lo: number, out: Uint8Array, off: number, decrypt = false): void {
  // IP as a network of five delta swaps (t = ((a >>> n) ^ b) & mask; b ^= t; a ^= t << n), the
  // classic bit-slice form of the permutation; FP below is the same network in reverse order.
  // Both were checked against des.js's ip/rip, and the vector tests pin the whole cipher.
  let l = hi;
  let r = lo;
  let t = ((l >>> 4) ^ r) & 0x0f0f0f0f;
  r ^= t;
  l ^= t << 4;
  t = ((l >>> 16) ^ r) & 0x0000ffff;
  r ^= t;
  l ^= t << 16;
  t = ((r >>> 2) ^ l) & 0x33333333;
  l ^= t;
  r ^= t << 2;
  t = ((r >>> 8) ^ l) & 0x00ff00ff;
  l ^= t;
  r ^= t << 8;
  t = ((l >>> 1) ^ r) & 0x55555555;
  r ^= t;
  l ^= t << 1;
  if (decrypt) {
    // Two rounds per step, so that the halves swap roles instead of being copied.
    for (let k = 15; k > 0; k -= 2) {
      l ^= f(r, k);
      r ^= f(l, k - 1);
    }
  } else {
    for (let k = 0; k < 16; k += 2) {
      l ^= f(r, k);
      r ^= f(l, k + 1);
    }
  }
  // Undo the last swap: the output permutation takes (R16, L16).
  let oh = r;
  let ol = l;
  t = ((oh >>> 1) ^ ol) & 0x55555555;
  ol ^= t;
  oh ^= t << 1;
  t = ((ol >>> 8) ^ oh) & 0x00ff00ff;
  oh ^= t;
  ol ^= t << 8;
  t = ((ol >>> 2) ^ oh) & 0x33333333;
  oh ^= t;
  ol ^= t << 2;
  t = ((oh >>> 16) ^ ol) & 0x0000ffff;
  ol ^= t;
  oh ^= t << 16;
  t = ((oh >>> 4) ^ ol) & 0x0f0f0f0f;
  ol ^= t;
  oh ^= t << 4;
  out[off] = oh >>> 24;
  out[off + 1] = oh >>> 16;
  out[off + 2] = oh >>> 8;
  out[off + 3] = oh;
  out[off + 4] = ol >>> 24;
  out[off + 5] = ol >>> 16;
  out[off + 6] = ol >>> 8;
  out[off + 7] = ol;
}
