/** A text-protocol row payload (each value length-encoded, 0xFB for NULL), as tests expect it. */
export function encodeTextRow(values: readonly (Uint8Array | null)[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) {
    if (v === null) parts.push(Buffer.from([0xfb]));
    else {
      const n = v.length;
      const len = n < 0xfb ? Buffer.from([n]) : n <= 0xffff ? Buffer.from([0xfc, n & 0xff, n >> 8]) : Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16]);
      parts.push(len, Buffer.from(v));
    }
  }
  return Buffer.concat(parts);
}
