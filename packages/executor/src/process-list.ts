/**
 * SHOW [FULL] PROCESSLIST and KILL [CONNECTION|QUERY] id over the gateway's own client sessions:
 * ids are the connection ids clients got in the handshake (CONNECTION_ID()), never a shard's. A
 * shard's process list would show the gateway's pooled connections, and KILL of a shard thread
 * id would end another client's work.
 *
 * Who may see and kill what: as in MySQL for an account without the PROCESS and
 * CONNECTION ADMIN privileges (the gateway's accounts have no privileges), a user sees and kills
 * the connections of its own user name only.
 */
import type { BindVars, ValueExpr } from '@shardgate/planner';
import { ExecutorError } from './errors.js';
import type { Session } from './session.js';
import { intField, sendRows, textField } from './session-statements.js';
import type { Cell, FieldInfo, ResultSink } from './types.js';
import { textCell } from './values/cell-codec.js';
import { ColumnFlag, ColumnType } from './values/column-types.js';
import { evalScalar } from './values/value-expr.js';

const ER_NO_SUCH_THREAD = 1094;
const ER_KILL_DENIED_ERROR = 1095;
const ER_CONNECTION_KILLED = 1927;
/** SHOW PROCESSLIST (without FULL) cuts Info to this many characters, as MariaDB does. */
const INFO_CHARS = 100;

const PROGRESS_FIELD: FieldInfo = { catalog: 'def', schema: '', table: '', orgTable: '', name: 'Progress', orgName: 'Progress', characterSet: 63, columnLength: 7, columnType: ColumnType.NEWDECIMAL, flags: ColumnFlag.NOT_NULL | ColumnFlag.BINARY, decimals: 3 };

/** The sessions the asking session may see: its own user's, itself always. */
function visibleSessions(asking: Session): Session[] {
  const all = asking.runtime.openSessions?.() ?? [asking];
  const out: Session[] = [];
  for (const s of all) if (s === asking || s.info.user === asking.info.user) out.push(s);
  return out;
}

export async function runShowProcesslist(asking: Session, full: boolean, sink: ResultSink): Promise<void> {
  const now = Date.now();
  const rows = visibleSessions(asking)
    .sort((a, b) => (a.info.connectionId ?? 0) - (b.info.connectionId ?? 0))
    .map((s): Cell[] => {
      const st = s.processState();
      const info = st.sql === null ? null : full ? st.sql : st.sql.slice(0, INFO_CHARS);
      const address = s.info.remoteAddress ?? '';
      return [
        textCell(String(s.info.connectionId ?? 0)),
        textCell(s.info.user),
        textCell(address.startsWith('::ffff:') ? address.slice(7) : address),
        st.database === null ? null : textCell(st.database),
        textCell(st.sql === null ? 'Sleep' : 'Query'),
        textCell(String(Math.max(0, Math.floor((now - st.since) / 1000)))),
        textCell(st.sql === null ? '' : 'executing'),
        info === null ? null : textCell(info),
        textCell('0.000'),
      ];
    });
  const fields = [intField('Id'), textField('User'), textField('Host'), textField('db'), textField('Command'), intField('Time'), textField('State'), textField('Info'), PROGRESS_FIELD];
  await sendRows(sink, fields, rows);
}

/** KILL [CONNECTION|QUERY] id: errors 1094 (no such connection of this user) and 1927 (the asking connection killed itself) as in MariaDB. */
export function runKill(asking: Session, scope: 'connection' | 'query', idExpr: ValueExpr, bv: BindVars, sink: ResultSink): void {
  const raw = evalScalar(idExpr, bv);
  const id = typeof raw === 'bigint' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? BigInt(raw) : typeof raw === 'number' && Number.isInteger(raw) ? BigInt(raw) : null;
  const shown = id === null ? String(raw) : id.toString();
  let target: Session | undefined;
  if (id !== null) for (const s of asking.runtime.openSessions?.() ?? [asking]) if (s.info.connectionId !== undefined && BigInt(s.info.connectionId) === id) target = s;
  if (target === undefined) throw new ExecutorError(ER_NO_SUCH_THREAD, 'HY000', `Unknown thread id: ${shown}`);
  if (target !== asking && target.info.user !== asking.info.user) throw new ExecutorError(ER_KILL_DENIED_ERROR, 'HY000', `You are not owner of thread ${shown}`);
  if (target === asking) {
    // MariaDB answers a session that kills itself with the error, then (CONNECTION) hangs up.
    if (scope === 'query') throw new ExecutorError(1317, '70100', 'Query execution was interrupted');
    setImmediate(() => asking.disconnect());
    throw new ExecutorError(ER_CONNECTION_KILLED, '70100', 'Connection was killed');
  }
  if (scope === 'query') target.interrupt();
  else target.disconnect();
  sink.ok({});
}
