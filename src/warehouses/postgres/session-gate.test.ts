import { describe, expect, it } from 'vitest';
import { SessionGate } from './session-gate.js';

describe('SessionGate', () => {
  it('admits up to its capacity and queues the rest in arrival order', async () => {
    const gate = new SessionGate(2);
    const first = await gate.acquire(1_000);
    await gate.acquire(1_000);
    const order: number[] = [];

    const third = gate.acquire(5_000).then((release) => (order.push(3), release));
    const fourth = gate.acquire(5_000).then((release) => (order.push(4), release));
    expect(gate.inUse).toBe(2);
    first();
    first(); // giving a permit back twice frees one place only
    (await third)();

    await fourth;
    expect(order).toEqual([3, 4]);
    expect(gate.inUse).toBe(2);
  });

  it('fails a wait longer than the timeout with busy, and frees its place', async () => {
    const gate = new SessionGate(1);
    const holder = await gate.acquire(1_000);

    await expect(gate.acquire(20)).rejects.toMatchObject({ kind: 'busy' });
    holder();
    expect(gate.inUse).toBe(0);
  });

  it('fails a wait whose signal aborts with cancelled', async () => {
    const gate = new SessionGate(1);
    await gate.acquire(1_000);
    const controller = new AbortController();

    const waiting = gate.acquire(60_000, controller.signal);
    controller.abort();

    await expect(waiting).rejects.toMatchObject({ kind: 'cancelled' });
    await expect(gate.acquire(0, AbortSignal.abort())).rejects.toMatchObject({
      kind: 'cancelled',
    });
  });
});
