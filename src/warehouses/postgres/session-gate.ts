/**
 * Admits at most `capacity` holders at a time, in arrival order. The driver takes a permit
 * before asking pg's pool for a session, so the pool never queues and a wait has its own
 * limit and reacts to an abort signal: pg's pool offers one timeout for both waiting and
 * connecting, and no cancellation.
 */

import { WarehouseError } from '../driver.js';

interface Waiter {
  grant(): void;
}

export class SessionGate {
  private held = 0;
  private readonly waiters: Waiter[] = [];

  constructor(private readonly capacity: number) {}

  /** Holders right now; never above the capacity. */
  get inUse(): number {
    return this.held;
  }

  /**
   * Waits for a permit: `busy` after `timeoutMs`, `cancelled` when `signal` aborts. The
   * returned function gives the permit back and may be called more than once.
   */
  async acquire(timeoutMs: number, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw cancelledWhileWaiting();
    if (this.held < this.capacity && this.waiters.length === 0) return this.grant();
    return this.wait(timeoutMs, signal);
  }

  private wait(timeoutMs: number, signal: AbortSignal | undefined): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const leave = (error: WarehouseError) => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        cleanUp();
        reject(error);
      };
      const onAbort = () => leave(cancelledWhileWaiting());
      const timer = setTimeout(() => leave(busy(timeoutMs)), timeoutMs);
      const cleanUp = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        grant: () => {
          cleanUp();
          resolve(this.grant());
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private grant(): () => void {
    this.held += 1;
    let isReturned = false;
    return () => {
      if (isReturned) return;
      isReturned = true;
      this.held -= 1;
      this.waiters.shift()?.grant();
    };
  }
}

function busy(timeoutMs: number): WarehouseError {
  return new WarehouseError(
    'busy',
    `Every connection to the warehouse stayed busy for ${timeoutMs} ms; try again later`,
  );
}

function cancelledWhileWaiting(): WarehouseError {
  return new WarehouseError('cancelled', 'The statement was cancelled before it started');
}
