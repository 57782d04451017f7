import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WarehouseError } from '../driver.js';
import { QueryQueue, type QueueItem } from './query-queue.js';

interface TestItem extends QueueItem {
  name: string;
  failure?: WarehouseError;
}

function item(name: string, signal?: AbortSignal): TestItem {
  const created: TestItem = {
    name,
    signal,
    fail(error) {
      created.failure = error;
    },
  };
  return created;
}

describe('QueryQueue', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands items out oldest first', () => {
    const queue = new QueryQueue<TestItem>(10, 1_000);
    queue.add(item('a'));
    queue.add(item('b'));

    expect(queue.take()?.name).toBe('a');
    expect(queue.take()?.name).toBe('b');
    expect(queue.take()).toBeUndefined();
  });

  it('refuses an item beyond the limit as busy', () => {
    const queue = new QueryQueue<TestItem>(1, 1_000);
    queue.add(item('a'));

    expect(() => queue.add(item('b'))).toThrowError(expect.objectContaining({ kind: 'busy' }));
    expect(queue.length).toBe(1);
    queue.takeAll();
  });

  it('fails an item that waited longer than the wait timeout as busy', () => {
    vi.useFakeTimers();
    const queue = new QueryQueue<TestItem>(10, 1_000);
    const waiting = item('a');
    queue.add(waiting);

    vi.advanceTimersByTime(999);
    expect(waiting.failure).toBeUndefined();
    vi.advanceTimersByTime(1);

    expect(waiting.failure?.kind).toBe('busy');
    expect(queue.length).toBe(0);
  });

  it('removes an aborted item and fails it as cancelled', () => {
    const queue = new QueryQueue<TestItem>(10, 1_000);
    const controller = new AbortController();
    const aborted = item('a', controller.signal);
    queue.add(aborted);
    queue.add(item('b'));

    controller.abort();

    expect(aborted.failure?.kind).toBe('cancelled');
    expect(queue.take()?.name).toBe('b');
  });

  it('no longer fails an item once it was taken', () => {
    vi.useFakeTimers();
    const queue = new QueryQueue<TestItem>(10, 1_000);
    const controller = new AbortController();
    const taken = item('a', controller.signal);
    queue.add(taken);

    queue.take();
    controller.abort();
    vi.advanceTimersByTime(5_000);

    expect(taken.failure).toBeUndefined();
  });
});
