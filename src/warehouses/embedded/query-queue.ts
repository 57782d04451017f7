/**
 * Bounded FIFO of statements waiting for the embedded warehouse, which runs one at a time.
 * Waiting is bounded too: an entry that waits too long, or whose caller gives up, leaves the
 * queue and is failed without ever running.
 */

import { WarehouseError } from '../driver.js';

export interface QueueItem {
  readonly signal?: AbortSignal | undefined;
  /** Called at most once, when the item leaves the queue without being taken. */
  fail(error: WarehouseError): void;
}

interface Entry<T> {
  item: T;
  timer: NodeJS.Timeout;
  onAbort: () => void;
}

export class QueryQueue<T extends QueueItem> {
  private readonly entries: Entry<T>[] = [];

  constructor(
    private readonly limit: number,
    private readonly waitTimeoutMs: number,
  ) {}

  get length(): number {
    return this.entries.length;
  }

  /** Appends an item; throws a `busy` error when the queue is full. */
  add(item: T): void {
    if (this.entries.length >= this.limit) {
      throw new WarehouseError(
        'busy',
        `The embedded warehouse is busy: ${this.limit} statements are already waiting`,
      );
    }

    const entry: Entry<T> = {
      item,
      timer: setTimeout(() => this.expire(entry), this.waitTimeoutMs),
      onAbort: () => this.abort(entry),
    };
    // A waiting statement alone must not keep the process alive at shutdown.
    entry.timer.unref();
    item.signal?.addEventListener('abort', entry.onAbort, { once: true });
    this.entries.push(entry);
  }

  /** Removes and returns the oldest item, if any. */
  take(): T | undefined {
    const entry = this.entries.shift();
    if (!entry) return undefined;
    this.release(entry);
    return entry.item;
  }

  /** Removes and returns every item, oldest first. */
  takeAll(): T[] {
    const entries = this.entries.splice(0);
    for (const entry of entries) this.release(entry);
    return entries.map((entry) => entry.item);
  }

  private expire(entry: Entry<T>): void {
    if (!this.remove(entry)) return;
    entry.item.fail(
      new WarehouseError(
        'busy',
        `The embedded warehouse is busy: the statement waited ${this.waitTimeoutMs} ms without starting`,
      ),
    );
  }

  private abort(entry: Entry<T>): void {
    if (!this.remove(entry)) return;
    entry.item.fail(
      new WarehouseError('cancelled', 'The statement was cancelled before it started'),
    );
  }

  private remove(entry: Entry<T>): boolean {
    const index = this.entries.indexOf(entry);
    if (index < 0) return false;
    this.entries.splice(index, 1);
    this.release(entry);
    return true;
  }

  private release(entry: Entry<T>): void {
    clearTimeout(entry.timer);
    entry.item.signal?.removeEventListener('abort', entry.onAbort);
  }
}
