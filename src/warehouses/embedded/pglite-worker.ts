/**
 * Host-side handle on one PGlite worker thread: starts it, opens the data directory, sends one
 * request at a time and turns the worker's replies and deaths into promises.
 */

import { Worker } from 'node:worker_threads';
import { WarehouseError, type WarehouseErrorKind, type WarehouseResult } from '../driver.js';
import {
  PostgresServerError,
  warehouseErrorFromPostgres,
  type PostgresErrorFields,
} from '../postgres-errors.js';
import type { HostMessage, OpenReport, WorkerMessage } from './worker-protocol.js';

/** How long a clean close may take before the thread is terminated anyway. */
const CLOSE_GRACE_MS = 30_000;
const WORKER_NAME = 'embedded-warehouse';

interface PendingRequest {
  resolve(reply: WorkerMessage): void;
  reject(error: Error): void;
}

/** Called when an open worker dies or reports its PGlite instance unusable. */
export type WorkerFailureListener = (worker: PgliteWorker, error: WarehouseError) => void;

/**
 * Starts the worker thread. The build puts the compiled `warehouse-worker.js` next to this
 * module; test runs execute TypeScript sources, so the worker then loads `warehouse-worker.ts`
 * through tsx. Node 20 does not apply loader hooks from a worker's `--import` execArgv to
 * that worker's own entry module, hence the small bootstrap that registers tsx first.
 */
function startWorkerThread(): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./warehouse-worker.js', import.meta.url), { name: WORKER_NAME });
  }

  const tsxApi = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./warehouse-worker.ts', import.meta.url).href);
  const bootstrap = `import(${tsxApi}).then((tsx) => (tsx.register(), import(${entry})));`;
  return new Worker(bootstrap, { eval: true, name: WORKER_NAME });
}

export class PgliteWorker {
  private pending: PendingRequest | undefined;
  private nextQueryId = 1;
  private isOpen = false;
  private isStopping = false;
  private hasExited = false;
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
        this.hasExited = true;
        this.onExit(exitCode);
        resolve();
      });
    });
  }

  /**
   * Starts a worker thread and opens `dataDir` in it (creating it and PostGIS when new);
   * results larger than `maxResultBytes` are refused in the worker.
   */
  static async start(
    options: { dataDir: string; maxResultBytes: number },
    onFailure: WorkerFailureListener,
  ): Promise<{ worker: PgliteWorker; report: OpenReport }> {
    const worker = new PgliteWorker(startWorkerThread(), onFailure);

    try {
      const { dataDir, maxResultBytes } = options;
      const reply = await worker.request({ type: 'open', dataDir, maxResultBytes });
      if (reply.type !== 'opened') throw new Error(`Unexpected reply '${reply.type}' to open`);
      worker.isOpen = true;
      const { createdDataDir, createMs, extensionMs, roleMs, postgisVersion } = reply;
      const report = { createdDataDir, createMs, extensionMs, roleMs, postgisVersion };
      return { worker, report };
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  /** Runs one statement; the caller must wait for the previous one to settle. */
  async run(sql: string, params: readonly unknown[], readOnly = false): Promise<WarehouseResult> {
    const id = this.nextQueryId++;
    const reply = await this.request({ type: 'query', id, sql, params, readOnly });
    if (reply.type !== 'result') {
      throw new WarehouseError('internal', `Unexpected reply '${reply.type}' to a query`);
    }
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
    if (this.hasExited) return;
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

    this.settleWithError(message.error, message.fatal, message.kind);
  }

  private settleWithError(
    fields: PostgresErrorFields,
    fatal: boolean,
    workerKind: WarehouseErrorKind | undefined,
  ): void {
    // The worker classifies what it detected itself; with a SQLSTATE the statement failed;
    // otherwise, fatal means the instance crashed.
    let error: WarehouseError;
    if (workerKind !== undefined) {
      const cause = new PostgresServerError(fields);
      error = new WarehouseError(workerKind, fields.message, undefined, { cause });
    } else if (fields.code !== undefined) {
      error = warehouseErrorFromPostgres(fields);
    } else {
      const kind = fatal ? 'unavailable' : 'internal';
      const cause = new PostgresServerError(fields);
      error = new WarehouseError(
        kind,
        `The embedded warehouse failed: ${fields.message}`,
        undefined,
        {
          cause,
        },
      );
    }
    if (fatal && this.isOpen && !this.isStopping) this.onFailure(this, error);
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
