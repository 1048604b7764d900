/**
 * PacketMemoryBudget: the bytes of client packets all connections hold at once are bounded; a
 * packet that does not fit is read and dropped (never buffered) and answered with 1041, and the
 * connection stays usable.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PacketFramer, PacketMemoryBudget, UNBUDGETED_PACKET_BYTES, type Packet } from '../src/index.js';
import { framePacket } from '../src/testing/packets.js';
import { defaultQuery, startServer, waitFor, type TestServer } from './helpers.js';

const KiB = 1024;

describe('PacketFramer with a PacketMemoryBudget', () => {
  it('reserves a packet when its header arrives, and drops one that does not fit without holding its bytes', () => {
    const budget = new PacketMemoryBudget(100 * KiB);
    const big = Buffer.alloc(150 * KiB, 0x61);
    big[0] = 3; // COM_QUERY
    const a = new PacketFramer(1024 * KiB, budget);
    const b = new PacketFramer(1024 * KiB, budget);
    const gotA: Packet[] = [];
    const gotB: Packet[] = [];
    const bytes = framePacket(big, 0);
    // A's header and first bytes: its packet is reserved before the rest arrives.
    a.push(bytes.subarray(0, 10 * KiB), (p) => gotA.push(p));
    expect(budget.usedBytes).toBe(150 * KiB - UNBUDGETED_PACKET_BYTES);
    // B's packet of the same size does not fit next to A's: its bytes are dropped as they come.
    for (let i = 0; i < bytes.length; i += 10 * KiB) {
      b.push(bytes.subarray(i, i + 10 * KiB), (p) => gotB.push(p));
      expect(b.pendingBytes).toBe(0);
    }
    expect(gotB).toHaveLength(1);
    expect(gotB[0]).toMatchObject({ sequenceId: 0, nextSequenceId: 1, outOfMemory: true });
    expect([...gotB[0]!.payload]).toEqual([3, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61]);
    expect(budget.usedBytes).toBe(150 * KiB - UNBUDGETED_PACKET_BYTES);
    // A's packet completes whole, holding its reservation until the receiver releases it.
    a.push(bytes.subarray(10 * KiB), (p) => gotA.push(p));
    expect(gotA).toHaveLength(1);
    expect(gotA[0]!.payload.equals(big)).toBe(true);
    expect(gotA[0]!.reservedBytes).toBe(150 * KiB - UNBUDGETED_PACKET_BYTES);
    budget.release(gotA[0]!.reservedBytes!);
    // With the budget free again, B's next packet is framed as usual, and small packets never count.
    b.push(Buffer.concat([framePacket(Buffer.from('\x03select 1'), 0), bytes]), (p) => gotB.push(p));
    expect(gotB.slice(1).map((p) => [p.payload.length, p.outOfMemory ?? false])).toEqual([
      [9, false],
      [big.length, false],
    ]);
    expect(gotB[1]!.reservedBytes).toBeUndefined();
  });

  it('gives back a partly received packet when the connection goes away', () => {
    const budget = new PacketMemoryBudget(1024 * KiB);
    const framer = new PacketFramer(1024 * KiB, budget);
    framer.push(framePacket(Buffer.alloc(500 * KiB), 0).subarray(0, 1000), () => undefined);
    expect(budget.usedBytes).toBe(500 * KiB - UNBUDGETED_PACKET_BYTES);
    framer.dispose();
    expect(budget.usedBytes).toBe(0);
  });
});

describe('maxPacketMemory', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('answers a statement that does not fit with 1041 (HY000), keeps the connection, and frees the memory after each statement', async () => {
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    t = await startServer(
      () => ({
        query: async (sql, out) => {
          // The first long statement is held (its packet with it) until the test opens the gate.
          if (sql.startsWith('select /* held */')) await gate;
          if (sql.length > 1000) return out.ok({ info: `${sql.length}` });
          return defaultQuery(sql, out);
        },
      }),
      { maxPacketMemory: 1024 * KiB },
    );
    const a = await t.connect();
    const b = await t.connect();
    const long = (tag: string): string => `select /* ${tag} */ '${'x'.repeat(700 * KiB)}'`;
    const held = a.query(long('held'));
    // A's statement is running (its packet received whole and held by its command).
    await waitFor(() => t!.sessions.some((r) => r.queries.some((q) => q.startsWith('select /* held */'))), "A's statement to run");
    await expect(b.query(long('other'))).rejects.toMatchObject({ errno: 1041, sqlState: 'HY000', message: expect.stringMatching(/^Out of memory/) });
    // The connection that was refused is fine, and so are short statements.
    expect((await b.query('select 1'))[0]).toEqual([{ 1: '1' }]);
    openGate();
    expect((await held)[0]).toMatchObject({ info: String(long('held').length) });
    // A's statement is done: its memory is free for B's.
    expect((await b.query(long('other')))[0]).toMatchObject({ info: String(long('other').length) });
    await a.end();
    await b.end();
    expect(t.errors).toEqual([]);
  });
});
