/**
 * The bytes of client packets (statements, their parameters) the server holds at once, across
 * every connection. Each connection alone is bounded by max_allowed_packet, but a thousand of them
 * each sending a 15 MiB statement at once would hold 15 GiB: past this budget a packet that needs
 * more is read and dropped rather than buffered, and answered with 1041 ER_OUT_OF_RESOURCES, the
 * connection staying open (see PacketFramer). A packet's bytes count from the moment its header
 * announces them until its command has been handled.
 *
 * Concurrency rule: shared by every connection of one server; reserved and released only
 * synchronously on the event loop (no await between the check and the update in tryReserve).
 */
export class PacketMemoryBudget {
  private used = 0;

  constructor(readonly maxBytes: number) {}

  /** Takes n bytes if they fit; false (and nothing taken) otherwise. */
  tryReserve(n: number): boolean {
    if (this.used + n > this.maxBytes) return false;
    this.used += n;
    return true;
  }

  release(n: number): void {
    this.used -= n;
  }

  /** Bytes reserved now. */
  get usedBytes(): number {
    return this.used;
  }
}

/** Packets up to this size never count against the budget: short statements are never refused. */
export const UNBUDGETED_PACKET_BYTES = 64 * 1024;
