/** A statement waiting in, or running from, the embedded warehouse's queue. */

import { WarehouseError, type WarehouseQuery, type WarehouseResult } from '../driver.js';
import type { QueueItem } from './query-queue.js';

/** Settles its caller's promise once, whichever of result, failure or abort comes first. */
export class Job implements QueueItem {
  private isSettled = false;

  constructor(
    readonly query: WarehouseQuery,
    private readonly onResult: (result: WarehouseResult) => void,
    private readonly onError: (error: WarehouseError) => void,
  ) {}

  get signal(): AbortSignal | undefined {
    return this.query.signal;
  }

  succeed(result: WarehouseResult): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.onResult(result);
  }

  fail(error: WarehouseError): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.onError(error);
  }
}

/** Failures that are not yet `WarehouseError`s become `internal` ones. */
export function asWarehouseError(error: unknown): WarehouseError {
  if (error instanceof WarehouseError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new WarehouseError('internal', message, undefined, { cause: error });
}
