/*
 * XXH64 with seed 0, written over pairs of unsigned 32-bit halves so that hashing allocates nothing
 * but the result (BigInt arithmetic would allocate per operation). Vitess's `xxhash` and
 * `unicode_loose_xxhash` vindexes use github.com/cespare/xxhash/v2 Sum64 and store the result
 * LITTLE-endian (binary.LittleEndian.PutUint64 in go/vt/vtgate/vindexes/xxhash.go).
 *
 * Concurrency rule: the 64-bit "registers" H/L below are module-level scratch, written and read only
 * inside one synchronous call; JavaScript never interleaves two calls, so sharing them is safe.
 */

// Primes as [hi, lo].
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

let H = 0;
let L = 0;

function mul(ah: number, al: number, bh: number, bl: number): void {
  const a48 = ah >>> 16, a32 = ah & 0xffff, a16 = al >>> 16, a00 = al & 0xffff;
  const b48 = bh >>> 16, b32 = bh & 0xffff, b16 = bl >>> 16, b00 = bl & 0xffff;
  let c00 = a00 * b00;
  let c16 = c00 >>> 16;
  c00 &= 0xffff;
  c16 += a16 * b00;
  let c32 = c16 >>> 16;
  c16 &= 0xffff;
  c16 += a00 * b16;
  c32 += c16 >>> 16;
  c16 &= 0xffff;
  c32 += a32 * b00;
  let c48 = c32 >>> 16;
  c32 &= 0xffff;
  c32 += a16 * b16;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c32 += a00 * b32;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c48 += a48 * b00 + a32 * b16 + a16 * b32 + a00 * b48;
  c48 &= 0xffff;
  H = ((c48 << 16) | c32) >>> 0;
  L = ((c16 << 16) | c00) >>> 0;
}

function add(ah: number, al: number, bh: number, bl: number): void {
  const l = al + bl;
  L = l >>> 0;
  H = (ah + bh + (l > 0xffffffff ? 1 : 0)) >>> 0;
}

function rotl(h: number, l: number, n: number): void {
  H = ((h << n) | (l >>> (32 - n))) >>> 0;
  L = ((l << n) | (h >>> (32 - n))) >>> 0;
}

function u32le(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

/** acc = rotl(acc + input * P2, 31) * P1; result in H/L. */
function round(accH: number, accL: number, inH: number, inL: number): void {
  mul(inH, inL, P2H, P2L);
  add(accH, accL, H, L);
  rotl(H, L, 31);
  mul(H, L, P1H, P1L);
}

/** XXH64(data, seed 0) as [hi, lo] written to `out`. */
export function xxhash64Parts(data: Uint8Array, out: Uint32Array): void {
  const len = data.length;
  let i = 0;
  let hh: number;
  let hl: number;
  if (len >= 32) {
    // v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1 (all mod 2^64)
    add(P1H, P1L, P2H, P2L);
    let v1h = H, v1l = L;
    let v2h = P2H, v2l = P2L;
    let v3h = 0, v3l = 0;
    add(~P1H >>> 0, ~P1L >>> 0, 0, 1);
    let v4h = H, v4l = L;
    const limit = len - 32;
    do {
      round(v1h, v1l, u32le(data, i + 4), u32le(data, i));
      v1h = H; v1l = L;
      round(v2h, v2l, u32le(data, i + 12), u32le(data, i + 8));
      v2h = H; v2l = L;
      round(v3h, v3l, u32le(data, i + 20), u32le(data, i + 16));
      v3h = H; v3l = L;
      round(v4h, v4l, u32le(data, i + 28), u32le(data, i + 24));
      v4h = H; v4l = L;
      i += 32;
    } while (i <= limit);
    rotl(v1h, v1l, 1);
    let ah = H, al = L;
    rotl(v2h, v2l, 7);
    add(ah, al, H, L);
    ah = H; al = L;
    rotl(v3h, v3l, 12);
    add(ah, al, H, L);
    ah = H; al = L;
    rotl(v4h, v4l, 18);
    add(ah, al, H, L);
    hh = H; hl = L;
    const vs = [v1h, v1l, v2h, v2l, v3h, v3l, v4h, v4l];
    for (let k = 0; k < 8; k += 2) {
      round(0, 0, vs[k], vs[k + 1]);
      hh = (hh ^ H) >>> 0;
      hl = (hl ^ L) >>> 0;
      mul(hh, hl, P1H, P1L);
      add(H, L, P4H, P4L);
      hh = H; hl = L;
    }
  } else {
    hh = P5H;
    hl = P5L;
  }
  add(hh, hl, 0, len >>> 0);
  hh = H; hl = L;
  while (i + 8 <= len) {
    round(0, 0, u32le(data, i + 4), u32le(data, i));
    hh = (hh ^ H) >>> 0;
    hl = (hl ^ L) >>> 0;
    rotl(hh, hl, 27);
    mul(H, L, P1H, P1L);
    add(H, L, P4H, P4L);
    hh = H; hl = L;
    i += 8;
  }
  if (i + 4 <= len) {
    mul(0, u32le(data, i), P1H, P1L);
    hh = (hh ^ H) >>> 0;
    hl = (hl ^ L) >>> 0;
    rotl(hh, hl, 23);
    mul(H, L, P2H, P2L);
    add(H, L, P3H, P3L);
    hh = H; hl = L;
    i += 4;
  }
  while (i < len) {
    mul(0, data[i], P5H, P5L);
    hh = (hh ^ H) >>> 0;
    hl = (hl ^ L) >>> 0;
    rotl(hh, hl, 11);
    mul(H, L, P1H, P1L);
    hh = H; hl = L;
    i++;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hl = (hl ^ (hh >>> 1)) >>> 0;
  mul(hh, hl, P2H, P2L);
  hh = H; hl = L;
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0;
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L);
  hh = H; hl = L;
  hl = (hl ^ hh) >>> 0;
  out[0] = hh;
  out[1] = hl;
}
