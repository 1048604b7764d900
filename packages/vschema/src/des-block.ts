import desjs from 'des.js';

/*
 * Single-block DES with the all-zero key: Vitess's `hash` vindex is exactly this applied to the
 * big-endian uint64 (crypto/des NewCipher(make([]byte, 8)), go/vt/vtgate/vindexes/hash.go).
 *
 * Node's OpenSSL 3 no longer ships DES, and des.js allocates on every call, so this file builds its
 * own table-driven cipher once at load time FROM des.js's primitive helpers (the S-boxes, P and the
 * key schedule are never retyped here). IP and IP^-1 are delta-swap networks.
 *
 * The all-zero key is one of DES's weak keys: every round key is zero (checked at load), so the
 * f-function is the same in all sixteen rounds and encryption equals decryption. That lets f use
 * four tables of 1024 entries, each fusing two neighbouring S-boxes with P over the ten input bits
 * the two share, instead of eight lookups of six bits: 4 lookups a round, no key XOR, and no
 * allocation. The vector tests pin the whole cipher.
 */

const u = desjs.utils;

// PAIR_SP[p * 1024 + w] = P(S_2p(..) ^ S_2p+1(..)) for the ten-bit window w of the round input
// that S-boxes 2p and 2p+1 read (see f). Int32Array so that every load stays a small integer in
// optimized code (Uint32 values above 2^31 would not). Immutable after module load.
const PAIR_SP = new Int32Array(4 * 1024);

(function buildTables(): void {
  // SP[j * 64 + six_bits] = P(S_j(six_bits) placed in nibble j).
  const SP = new Int32Array(8 * 64);
  for (let j = 0; j < 8; j++) {
    for (let x = 0; x < 64; x++) {
      const placed = (x << (18 - 6 * (j & 3))) >>> 0;
      const s = j < 4 ? u.substitute(placed, 0) : u.substitute(0, placed);
      const nibbleShift = 28 - 4 * j;
      const nibble = (s >>> nibbleShift) & 0xf;
      SP[j * 64 + x] = u.permute((nibble << nibbleShift) >>> 0);
    }
  }
  // The key schedule for the all-zero key, derived with des.js's PC-1, rotations and PC-2: every
  // round key must come out zero, which is what makes one f serve all rounds.
  const shifts = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
  const tmp = [0, 0];
  u.pc1(0, 0, tmp, 0);
  let kL = tmp[0];
  let kR = tmp[1];
  for (let r = 0; r < 16; r++) {
    kL = u.r28shl(kL, shifts[r]);
    kR = u.r28shl(kR, shifts[r]);
    u.pc2(kL, kR, tmp, 0);
    if (tmp[0] !== 0 || tmp[1] !== 0) throw new Error('des-block: the all-zero key has a non-zero round key');
  }
  // Chunk j of the expansion E(R) is six bits of R: the even chunks 0, 2, 4, 6 are bytes 3..0 of
  // R rotated right by 3 (low six bits of each), the odd ones the same of R rotated left by 1.
  const chunkSP = (j: number, R: number): number => {
    const src = (j & 1) === 0 ? (R >>> 3) | (R << 29) : (R << 1) | (R >>> 31);
    return SP[j * 64 + ((src >>> (24 - 8 * (j >> 1))) & 63)]!;
  };
  // Where window w of pair p sits in R (the inverse of the extraction in f).
  const place = [(w: number) => (w << 23) | (w >>> 9), (w: number) => w << 15, (w: number) => w << 7, (w: number) => (w >>> 1) | (w << 31)];
  for (let p = 0; p < 4; p++) {
    for (let w = 0; w < 1024; w++) {
      const R = place[p]!(w) | 0;
      PAIR_SP[p * 1024 + w] = chunkSP(2 * p, R) ^ chunkSP(2 * p + 1, R);
    }
  }
})();

/**
 * The DES f-function (zero round key) on the 32-bit half `R`. S-boxes 2p and 2p+1 together read
 * ten consecutive bits of R (cyclically): bits 23..32, 15..24, 7..16 and 31..8.
 */
function f(R: number): number {
  return (
    PAIR_SP[((R >>> 23) | (R << 9)) & 1023]! ^
    PAIR_SP[1024 + ((R >>> 15) & 1023)]! ^
    PAIR_SP[2048 + ((R >>> 7) & 1023)]! ^
    PAIR_SP[3072 + (((R << 1) | (R >>> 31)) & 1023)]!
  );
}

/**
 * Encrypts the 64-bit block hi:lo and writes the 8 result bytes to out[off..off+8). With the weak
 * all-zero key this is also the decryption (see above), so vunhash uses it too.
 */
export function desBlock(hi: number, lo: number, out: Uint8Array, off: number): void {
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
  for (let k = 0; k < 8; k++) {
    l ^= f(r);
    r ^= f(l);
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
