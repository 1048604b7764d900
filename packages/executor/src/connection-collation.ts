/**
 * The client session's collation_connection: the utf8mb4 collations MariaDB names by handshake id,
 * and how a collation a SET names is checked. The gateway speaks utf8mb4 only, so only utf8mb4
 * collations are accepted (a utf8 / utf8mb3 one is taken as its utf8mb4 twin, as SET NAMES utf8
 * is taken as utf8mb4).
 */
import { ExecutorError, ER_NOT_SUPPORTED_YET } from './errors.js';

/** MariaDB 10.11's utf8mb4 collations by id (those a client handshake can name). */
const UTF8MB4_COLLATIONS: ReadonlyMap<number, string> = new Map([
  [45, 'utf8mb4_general_ci'],
  [46, 'utf8mb4_bin'],
  [224, 'utf8mb4_unicode_ci'],
  [225, 'utf8mb4_icelandic_ci'],
  [226, 'utf8mb4_latvian_ci'],
  [227, 'utf8mb4_romanian_ci'],
  [228, 'utf8mb4_slovenian_ci'],
  [229, 'utf8mb4_polish_ci'],
  [230, 'utf8mb4_estonian_ci'],
  [231, 'utf8mb4_spanish_ci'],
  [232, 'utf8mb4_swedish_ci'],
  [233, 'utf8mb4_turkish_ci'],
  [234, 'utf8mb4_czech_ci'],
  [235, 'utf8mb4_danish_ci'],
  [236, 'utf8mb4_lithuanian_ci'],
  [237, 'utf8mb4_slovak_ci'],
  [238, 'utf8mb4_spanish2_ci'],
  [239, 'utf8mb4_roman_ci'],
  [240, 'utf8mb4_persian_ci'],
  [241, 'utf8mb4_esperanto_ci'],
  [242, 'utf8mb4_hungarian_ci'],
  [243, 'utf8mb4_sinhala_ci'],
  [244, 'utf8mb4_german2_ci'],
  [245, 'utf8mb4_croatian_mysql561_ci'],
  [246, 'utf8mb4_unicode_520_ci'],
  [247, 'utf8mb4_vietnamese_ci'],
  [1069, 'utf8mb4_general_nopad_ci'],
  [1070, 'utf8mb4_nopad_bin'],
  [1248, 'utf8mb4_unicode_nopad_ci'],
  [1270, 'utf8mb4_unicode_520_nopad_ci'],
]);

/** utf8mb4's default collation in MariaDB 10.11 (SET NAMES utf8mb4, SET character_set_connection). */
export const UTF8MB4_DEFAULT_COLLATION = 'utf8mb4_general_ci';

/** The name of a utf8mb4 collation id (the protocol maps any other handshake collation to 45). */
export function collationNameOf(id: number): string {
  return UTF8MB4_COLLATIONS.get(id) ?? UTF8MB4_DEFAULT_COLLATION;
}

/** A collation named in SQL (`utf8_bin`, `UTF8MB4_Unicode_CI`) as the utf8mb4 collation the gateway uses. */
export function utf8mb4CollationName(name: string): string {
  return name.toLowerCase().replace(/^utf8(mb3)?_/, 'utf8mb4_');
}

/** What MariaDB says of a collation it does not know. */
export function unknownCollation(name: string): ExecutorError {
  return new ExecutorError(1273, 'HY000', `Unknown collation: '${name}'`);
}

/** A known collation of another character set, which the gateway cannot speak. */
export function unsupportedCollation(name: string): ExecutorError {
  return new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This version of shardgate doesn't yet support 'collation_connection ${name}': clients must use a utf8mb4 collation`);
}
