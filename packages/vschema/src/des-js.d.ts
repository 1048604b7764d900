// Minimal typing for the parts of des.js (https://github.com/indutny/des.js) this package uses:
// its exported bit-level helpers, from which des-block.ts derives lookup tables once at load.
declare module 'des.js' {
  interface DesUtils {
    ip(inL: number, inR: number, out: number[], off: number): void;
    rip(inL: number, inR: number, out: number[], off: number): void;
    pc1(inL: number, inR: number, out: number[], off: number): void;
    pc2(inL: number, inR: number, out: number[], off: number): void;
    r28shl(num: number, shift: number): number;
    substitute(inL: number, inR: number): number;
    permute(num: number): number;
    readUInt32BE(bytes: ArrayLike<number>, off: number): number;
  }
  interface DesCipher {
    update(data: ArrayLike<number>): number[];
    final(): number[];
  }
  const desjs: {
    utils: DesUtils;
    DES: { create(opts: { type: 'encrypt' | 'decrypt'; key: ArrayLike<number>; padding?: boolean }): DesCipher };
  };
  export default desjs;
}
