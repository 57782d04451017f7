/**
 * Host-side handle on one PGlite worker thread: starts it, opens the data directory, sends one
 * request at a time and turns the worker's replies and deaths into promises.
 */

import { Worker } from 'node:worker_threads';
import { WarehouseError, type WarehouseResult } from '../driver.js';
import { PostgresServerError, warehouseErrorFromPostgres } from '../postgres-errors.js';
import type { HostMessage, OpenReport, WorkerMessage } from './worker-protocol.js';

/** How long a clean close may take before the thread is terminated anyway. */
const CLOSE_GRACE_MS = 30_000;

interface PendingRequest {
  resolve(reply: WorkerMessage): void;
  reject(error: Error): void;
}

/** Called when an open worker dies or reports its PGlite instance unusable. */
export type WorkerFailureListener = (worker: PgliteWorker, error: WarehouseError) => void;

/**
 * Test runs execute TypeScript sources, so the worker is started from its `.ts` file through
 * tsx; the build puts the compiled `.js` next to this module.
 */
function workerEntry(): { url: URL; execArgv: string[] | undefined } {
  if (import.meta.url.endsWith('.ts')) {
    return {
      url: new URL('./warehouse-worker.ts', import.meta.url),
      execArgv: ['--import', 'tsx'],
    };
  }
  return { url: new URL('./warehouse-worker.js', import.meta.url), execArgv: undefined };
}

export class PgliteWorker {
  private pending: PendingRequest | undefined;
  private nextQueryId = 1;
  private isOpen = false;
  private isStopping = false;
  private lastThreadError: unknown;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly thread: Worker,
    private readonly onFailure: WorkerFailureListener,
  ) {
    thread.on('message', (message: WorkerMessage) => this.receive(message));
    thread.on('error', (error) => {
      this.lastThreadError = error;
    });
    thread.on('messageerror', (error) => {
      this.settle(
        undefined,
        new WarehouseError('internal', error.message, undefined, { cause: error }),
      );
    });
    this.exited = new Promise((resolve) => {
      thread.once('exit', (exitCode) => {
        this.onExit(exitCode);
        resolve();
      });
    });
  }

  /** Starts a worker thread and opens `dataDir` in it (creating it and PostGIS when new). */
  static async start(
    dataDir: string,
    onFailure: WorkerFailureListener,
  ): Promise<{ worker: PgliteWorker; report: OpenReport }> {
    const { url, execArgv } = workerEntry();
    const worker = new PgliteWorker(
      new Worker(url, { execArgv, name: 'embedded-warehouse' }),
      onFailure,
    );

    try {
      const reply = await worker.request({ type: 'open', dataDir });
      if (reply.type !== 'opened') throw new Error(`Unexpected reply '${reply.type}' to open`);
      worker.isOpen = true;
      const { createdDataDir, createMs, extensionMs, postgisVersion } = reply;
      return { worker, report: { createdDataDir, createMs, extensionMs, postgisVersion } };
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  /** Runs one statement; the caller must wait for the previous one to settle. */
  async run(sql: string, params: readonly unknown[]): Promise<WarehouseResult> {
    const reply = await this.request({ type: 'query', id: this.nextQueryId++, sql, params });
    if (reply.type !== 'result')
      throw new WarehouseError('internal', `Unexpected reply '${reply.type}'`);
    return { fields: reply.fields, rows: reply.rows };
  }

  /** Stops the thread at once, even in the middle of a statement. */
  async terminate(): Promise<void> {
    this.isStopping = true;
    await this.thread.terminate();
    await this.exited;
  }

  /** Closes PGlite cleanly (a checkpoint, so the next open needs no recovery), then the thread. */
  async close(): Promise<void> {
    this.isStopping = true;
    let graceTimer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      graceTimer = setTimeout(resolve, CLOSE_GRACE_MS);
    });
    try {
      await Promise.race([this.request({ type: 'close' }), grace]);
    } catch {
      // A failed close still ends with the thread terminated below.
    } finally {
      clearTimeout(graceTimer);
    }
    await this.terminate();
  }

  private request(message: HostMessage): Promise<WorkerMessage> {
    if (this.pending) {
      return Promise.reject(
        new WarehouseError('internal', 'The embedded warehouse worker is busy'),
      );
    }
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      try {
        this.thread.postMessage(message);
      } catch (error) {
        // Structured clone refuses functions, symbols and class instances it cannot copy.
        this.pending = undefined;
        const text = error instanceof Error ? error.message : String(error);
        reject(
          new WarehouseError('invalid_input', `Unsupported query parameter: ${text}`, undefined, {
            cause: error,
          }),
        );
      }
    });
  }

  private settle(reply: WorkerMessage | undefined, error?: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    if (error) pending.reject(error);
    else if (reply) pending.resolve(reply);
  }

  private receive(message: WorkerMessage): void {
    if (message.type !== 'error') {
      this.settle(message);
      return;
    }

    if (!message.fatal) {
      this.settle(undefined, warehouseErrorFromPostgres(message.error));
      return;
    }
    const error = new WarehouseError(
      'unavailable',
      `The embedded warehouse failed: ${message.error.message}`,
      message.error.code,
      { cause: new PostgresServerError(message.error) },
    );
    if (this.isOpen && !this.isStopping) this.onFailure(this, error);
    this.settle(undefined, error);
  }

  private onExit(exitCode: number): void {
    const error = new WarehouseError(
      'unavailable',
      `The embedded warehouse worker stopped (exit code ${exitCode})`,
      undefined,
      { cause: this.lastThreadError },
    );
    if (this.isOpen && !this.isStopping) this.onFailure(this, error);
    this.settle(undefined, error);
  }
}
