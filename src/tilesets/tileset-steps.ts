/** Steps every tileset build shares: running tiles a few at a time, and stopping when cancelled. */
import { tilesetErrors } from './tileset-errors.js';

/** Tiles built at once, unless the caller says otherwise. */
export const DEFAULT_CONCURRENCY = 4;

/** Runs `work` on every item, `concurrency` at a time; stops at the first error. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next]!;
      next += 1;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, worker);
  const results = await Promise.allSettled(workers);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw tilesetErrors.cancelled();
}
