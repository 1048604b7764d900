import { VSchemaLookupError } from './vschema-error.js';

/*
 * The collation key behind Vitess's unicode_loose_md5 / unicode_loose_xxhash vindexes.
 *
 * Vitess (go/vt/vtgate/vindexes/unicode.go) trims trailing ASCII spaces, then writes the PRIMARY
 * weights of a CLDR-23 / Unicode 6.2 root collation ("loose": case, accents and width ignored) as
 * 2-byte big-endian values, and hashes that key. Its table is golang.org/x/text/collate's, vendored
 * as go/mysql/collations/vindex/collate/tables.go (4.9 MB).
 *
 * Rather than port that whole table, shardgate carries the collation elements for a documented
 * repertoire, transcribed from that file's `mainValues` (blocks 0x0, 0x1, 0x3, 0xd, 0xe):
 *   - ASCII U+0000..U+007F,
 *   - U+0080..U+00BF except the characters the table expands (¼ ½ ¾) and U+00B7 (which forms the
 *     "l·" contraction), plus × ÷ Þ þ,
 *   - combining marks U+0300..U+036F,
 *   - and every character whose canonical decomposition (NFD) uses only the above: so all Latin
 *     letters with diacritics (é, Å, ş, ế, ...). Their table entries are expansions into the base
 *     letter's element plus secondary-only elements, so NFD gives the same primaries.
 * Input with any other character throws a VSchemaLookupError (errno 1105) rather than risk routing a
 * row to a shard Vitess would not have chosen. Unicode vectors from Vitess's unicodeloosemd5_test.go
 * and unicode_test.go pin the behaviour in test/unicode-loose.test.ts.
 */

// Collation elements (colltab.Elem). Primary weight: for type 1/2 elements (top bit clear)
// (elem & 0x3FFFFE00) >> 9; for elements 0x80000000..0xA0000000 the low 16 bits; otherwise none.
function primaryOf(elem: number): number {
  if (elem >= 0x80000000) return elem > 0xa0000000 ? 0 : elem & 0xffff;
  return (elem & 0x3ffffe00) >>> 9;
}

const IGNORABLE = 0xa0000000;
const ASCII_ELEMS: number[] = [
  // 0x00-0x0f
  IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE,
  IGNORABLE, 0x40020020, 0x40020220, 0x40020420, 0x40020620, 0x40020820, IGNORABLE, IGNORABLE,
  // 0x10-0x1f
  IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE,
  IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE, IGNORABLE,
  // 0x20-0x2f:  space ! " # $ % & ' ( ) * + , - . /
  0x40021220, 0x4002ba20, 0x4003e020, 0x4004ea20, 0x4027de20, 0x4004ec20, 0x4004e620, 0x4003d220,
  0x4003f420, 0x4003f620, 0x4004d820, 0x40093820, 0x40024020, 0x40021a20, 0x4002e420, 0x4004e220,
  // 0x30-0x3f: 0-9 : ; < = > ?
  0x4029cc20, 0x4029ce20, 0x4029d020, 0x4029d220, 0x4029d420, 0x4029d620, 0x4029d820, 0x4029da20,
  0x4029dc20, 0x4029de20, 0x40026c20, 0x40026220, 0x40094020, 0x40094220, 0x40094420, 0x4002c420,
  // 0x40-0x4f: @ A-O ('L' is a contraction start in the table; its default element is l's)
  0x4004d620, 0x002bde88, 0x002c0a88, 0x002c3a88, 0x002c6288, 0x002c9888, 0x002d0888, 0x002d2288,
  0x002d6888, 0x002d9a88, 0x002dcc88, 0x002dfe88, 0x402e2220, 0x002e8288, 0x002e9e88, 0x002ee288,
  // 0x50-0x5f: P-Z [ \ ] ^ _
  0x002f2c88, 0x002f5688, 0x002f7a88, 0x002fe688, 0x00302c88, 0x00306c88, 0x0030be88, 0x0030e288,
  0x0030f688, 0x00310088, 0x00312a88, 0x4003f820, 0x4004e420, 0x4003fa20, 0x40062420, 0x40021620,
  // 0x60-0x6f: ` a-o
  0x40061e20, 0x402bde20, 0x402c0a20, 0x402c3a20, 0x402c6220, 0x402c9820, 0x402d0820, 0x402d2220,
  0x402d6820, 0x402d9a20, 0x402dcc20, 0x402dfe20, 0x402e2220, 0x402e8220, 0x402e9e20, 0x402ee220,
  // 0x70-0x7f: p-z { | } ~ DEL
  0x402f2c20, 0x402f5620, 0x402f7a20, 0x402fe620, 0x40302c20, 0x40306c20, 0x4030be20, 0x4030e220,
  0x4030f620, 0x40310020, 0x40312a20, 0x4003fc20, 0x40094820, 0x4003fe20, 0x40094c20, IGNORABLE,
];

// Non-ASCII code points with a single (non-expanding) element in the table.
const EXTRA_ELEMS: Record<number, number> = {
  0x85: 0x40020a20, // NEL (other C1 controls are ignorable, see below)
  0xa0: 0x0002129b, 0xa1: 0x4002bc20, 0xa2: 0x4027dc20, 0xa3: 0x4027e020, 0xa4: 0x4027da20,
  0xa5: 0x4027e220, 0xa6: 0x40094a20, 0xa7: 0x4004ce20, 0xa8: 0x40062c20, 0xa9: 0x40081820,
  0xaa: 0x002bde94, 0xab: 0x4003f020, 0xac: 0x40094620, 0xad: IGNORABLE, 0xae: 0x40081a20,
  0xaf: 0x40062620, 0xb0: 0x40070420, 0xb1: 0x40093a20, 0xb2: 0x0029d094,
  0xb3: 0x0029d294, 0xb4: 0x40062020, 0xb5: 0x00327684, 0xb6: 0x4004d220, 0xb8: 0x40063220,
  0xb9: 0x0029ce94, 0xba: 0x002ee294, 0xbb: 0x4003f220, 0xbf: 0x4002c620,
  0xd7: 0x40093e20, 0xde: 0x00318888, 0xf7: 0x40093c20, 0xfe: 0x40318820,
  // Combining Latin small letters U+0363..U+036F carry the primary of their letter.
  0x363: 0x84e615ef, 0x364: 0x84e6164c, 0x365: 0x84e616cd, 0x366: 0x84e61771, 0x367: 0x84e61836,
  0x368: 0x84e6161d, 0x369: 0x84e61631, 0x36a: 0x84e616b4, 0x36b: 0x84e61741, 0x36c: 0x84e617bd,
  0x36d: 0x84e61816, 0x36e: 0x84e6185f, 0x36f: 0x84e6187b,
};

/** Primary weight of one code point, or -1 when outside the supported repertoire. */
function primaryWeight(cp: number): number {
  if (cp < 0x80) return primaryOf(ASCII_ELEMS[cp]);
  const e = EXTRA_ELEMS[cp];
  if (e !== undefined) return primaryOf(e);
  if (cp >= 0x80 && cp <= 0x9f) return 0; // C1 controls: ignorable
  if (cp >= 0x300 && cp <= 0x362) return 0; // combining diacritics: secondary weights only
  return -1;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * The loose collation key of `input` (raw bytes as stored, or a JS string). Throws
 * VSchemaLookupError for invalid UTF-8 (as Vitess does) and for characters outside the repertoire.
 */
export function unicodeLooseKey(input: Uint8Array | string): Uint8Array {
  let s: string;
  if (typeof input === 'string') {
    s = input;
  } else {
    try {
      s = utf8Strict.decode(input);
    } catch {
      throw new VSchemaLookupError('cannot normalize string containing invalid UTF-8 for a unicode_loose vindex');
    }
  }
  // Vitess trims trailing spaces (U+0020 only) before computing the key.
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x20) end--;
  if (end !== s.length) s = s.slice(0, end);
  const out: number[] = [];
  let ascii = true;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) { ascii = false; break; }
  const norm = ascii ? s : s.normalize('NFD');
  for (const ch of norm) {
    const cp = ch.codePointAt(0)!;
    const w = primaryWeight(cp);
    if (w < 0) {
      throw new VSchemaLookupError(
        `unicode_loose vindex: character U+${cp.toString(16).toUpperCase().padStart(4, '0')} is outside the ` +
          'repertoire shardgate can collate exactly like Vitess (ASCII, Latin-1 and Latin letters with diacritics)',
      );
    }
    if (w > 0) out.push(w >>> 8, w & 0xff);
  }
  return Uint8Array.from(out);
}
