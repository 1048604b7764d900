/**
 * The abort signal of a session's statements. A statement stops when its client disconnects (the
 * sink's signal), when the session closes, or when its query timeout fires.
 *
 * Statements without a timeout share one AbortController per (session, client signal) instead of
 * getting their own: creating a controller and hooking it to two long-lived signals for every
 * statement cost more CPU than the rest of a point select's executor work. Sharing is safe
 * because both sources are terminal: once the client is gone or the session closed, every later
 * statement of that session must stop too. A statement with a timeout gets its own controller,
 * a child of the shared one.
 */
import { offAbort, onAbort } from './abort-hooks.js';
import { queryInterrupted, queryTimeout } from './errors.js';

/** One statement's hold on a signal; `close()` exactly once when the statement settles. */
export interface StatementSignal {
  readonly signal: AbortSignal;
  close(): void;
}

/**
 * The controller shared by the statements of one client signal. `users` counts the statements
 * holding it (concurrency rule: changed only synchronously, by open() and close()).
 */
class SharedLink implements StatementSignal {
  readonly controller = new AbortController();
  users = 0;
  private readonly onClient: (() => void) | null = null;
  private readonly onClose: () => void;

  constructor(
    private readonly owner: StatementSignals,
    readonly client: AbortSignal | null,
    private readonly closing: AbortSignal,
  ) {
    this.onClose = () => this.controller.abort(closing.reason);
    if (client !== null) {
      this.onClient = () => this.controller.abort(queryInterrupted('client disconnected'));
      if (client.aborted) this.onClient();
      else client.addEventListener('abort', this.onClient, { once: true });
    }
    if (closing.aborted) this.onClose();
    else closing.addEventListener('abort', this.onClose, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  close(): void {
    this.owner.release(this);
  }

  /** Unhooks from the client and session signals (the link is no longer current and unused). */
  dispose(): void {
    if (this.onClient !== null) this.client!.removeEventListener('abort', this.onClient);
    this.closing.removeEventListener('abort', this.onClose);
  }
}

/**
 * A statement with a timeout: its own controller, aborted by the shared link or by the timer.
 * Concurrency rule: owned by one statement; its hook on the shared link's signal is added in the
 * constructor and removed in close(), both synchronous (abort-hooks.ts keeps the hook set).
 */
class TimedStatementSignal implements StatementSignal {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onParent: () => void;

  constructor(
    private readonly link: SharedLink,
    timeoutMs: number,
  ) {
    const parent = link.signal;
    this.onParent = () => this.controller.abort(parent.reason);
    if (parent.aborted) this.onParent();
    else onAbort(parent, this.onParent);
    this.timer = setTimeout(() => this.controller.abort(queryTimeout(timeoutMs)), timeoutMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  close(): void {
    clearTimeout(this.timer);
    offAbort(this.link.signal, this.onParent);
    this.link.close();
  }
}

/**
 * Hands out statement signals for one session.
 *
 * Concurrency rule: `current` is replaced only synchronously in open(). A link that is replaced
 * (a statement came with another client signal, e.g. a test's fresh sink) stays hooked while any
 * statement still holds it, and is unhooked by the close() that drops its last user, so no
 * running statement ever loses its abort sources and no listeners pile up on long-lived signals.
 */
export class StatementSignals {
  private current: SharedLink | null = null;
  /**
   * KILL QUERY's error, from the kill until the statement it hit ends (clearInterrupt), as MySQL
   * keeps a thread's kill flag: a signal the statement opens later (after planning, say) starts
   * aborted. Set and cleared synchronously.
   */
  private interrupted: Error | null = null;

  constructor(private readonly closing: AbortSignal) {}

  /** The signal for one statement; `timeoutMs` 0 means no timeout. */
  open(client: AbortSignal | null, timeoutMs: number): StatementSignal {
    if (this.interrupted !== null) {
      // Never current: the statements after the interrupted one get a link that is not aborted.
      const killed = new SharedLink(this, client, this.closing);
      killed.controller.abort(this.interrupted);
      killed.users++;
      return killed;
    }
    let link = this.current;
    if (link === null || link.client !== client) {
      const previous = link;
      link = new SharedLink(this, client, this.closing);
      this.current = link;
      if (previous !== null && previous.users === 0) previous.dispose();
    }
    link.users++;
    return timeoutMs > 0 ? new TimedStatementSignal(link, timeoutMs) : link;
  }

  /**
   * KILL QUERY: aborts the statements holding the current link with `reason`, and every signal
   * opened until clearInterrupt(). The aborted link stops being current, so the session's next
   * statement gets a fresh one.
   */
  interrupt(reason: Error): void {
    this.interrupted = reason;
    const link = this.current;
    if (link !== null && link.users > 0) {
      this.current = null;
      link.controller.abort(reason);
    }
  }

  /** The interrupted statement ended. */
  clearInterrupt(): void {
    this.interrupted = null;
  }

  /** Called by a link's close(). */
  release(link: SharedLink): void {
    link.users--;
    if (link.users === 0 && link !== this.current) link.dispose();
  }

  /** Unhooks the current link once no statement runs (session closed). */
  dispose(): void {
    const link = this.current;
    if (link !== null && link.users === 0) {
      link.dispose();
      this.current = null;
    }
  }
}
