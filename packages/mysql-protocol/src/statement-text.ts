import { isUtf8 } from 'node:buffer';
import { ErrorCode } from './error-codes.js';
import { MysqlError } from './mysql-error.js';
import { nonUtf8LiteralsAsHex } from './binary-string-literals.js';

/**
 * The text of a COM_QUERY / COM_STMT_PREPARE / COM_INIT_DB payload after its command byte (`sql`:
 * the payload is a statement, whose binary string literals may hold any bytes).
 *
 * The server speaks utf8mb4 on every connection, whatever collation the client's handshake named
 * (column definitions say utf8mb4, so drivers decode results correctly). Bytes that are not UTF-8
 * (a driver configured for latin1 sending `é` as 0xE9) would otherwise decode to U+FFFD and reach
 * the shards as different text than the client wrote: a silent wrong write. Outside a string
 * literal they are refused with 1300, as MariaDB refuses a string that is invalid in the
 * connection's character set; inside one they become a hex literal of the same bytes.
 */
export function statementText(payload: Buffer, offset: number, sql = true): string | MysqlError {
  const bytes = payload.subarray(offset);
  if (isUtf8(bytes)) return bytes.toString('utf8');
  if (sql) {
    // Raw binary values inlined in string literals (see nonUtf8LiteralsAsHex) are kept byte for byte.
    const rewritten = nonUtf8LiteralsAsHex(bytes);
    if (rewritten !== null && isUtf8(rewritten)) return rewritten.toString('utf8');
  }
  return new MysqlError(
    ErrorCode.ER_INVALID_CHARACTER_STRING,
    `Invalid utf8mb4 character string: '${describeInvalid(bytes)}'`,
  );
}

/** The text from the first byte that is not valid UTF-8, as MariaDB shows it: invalid bytes as \xHH, at most 64 characters. */
function describeInvalid(bytes: Buffer): string {
  // The first invalid position: the longest prefix that is still valid UTF-8 (a linear scan of lead bytes).
  let start = 0;
  while (start < bytes.length) {
    const b = bytes[start];
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len === 0 || start + len > bytes.length || !isUtf8(bytes.subarray(start, start + len))) break;
    start += len;
  }
  let out = '';
  for (let i = start; i < bytes.length && out.length < 64; i++) {
    const b = bytes[i];
    out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
