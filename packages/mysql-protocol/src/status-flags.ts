/** Server status flags carried by OK and EOF packets (SERVER_STATUS_*). */
export const StatusFlag = {
  IN_TRANS: 0x1,
  AUTOCOMMIT: 0x2,
  MORE_RESULTS_EXISTS: 0x8,
  NO_GOOD_INDEX_USED: 0x10,
  NO_INDEX_USED: 0x20,
  CURSOR_EXISTS: 0x40,
  LAST_ROW_SENT: 0x80,
  DB_DROPPED: 0x100,
  NO_BACKSLASH_ESCAPES: 0x200,
  METADATA_CHANGED: 0x400,
  QUERY_WAS_SLOW: 0x800,
  PS_OUT_PARAMS: 0x1000,
  IN_TRANS_READONLY: 0x2000,
  SESSION_STATE_CHANGED: 0x4000,
} as const;

/** Translates a session's transaction state into status flag bits. */
export function statusFlagsOf(state: { inTransaction: boolean; autocommit: boolean } | undefined): number {
  if (state === undefined) return StatusFlag.AUTOCOMMIT;
  return (state.inTransaction ? StatusFlag.IN_TRANS : 0) | (state.autocommit ? StatusFlag.AUTOCOMMIT : 0);
}
