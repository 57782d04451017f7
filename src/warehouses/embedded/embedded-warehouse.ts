/**
 * The embedded warehouse: PostgreSQL + PostGIS (PGlite) persisted in a local directory, run in
 * a worker thread so statements never block the HTTP event loop. PGlite is one session that
 * runs one statement at a time, so statements queue here (FIFO) and run one after another.
 */

import {
  WarehouseError,
  type WarehouseCapabilities,
  type WarehouseDriver,
  type WarehouseQuery,
  type WarehouseResult,
  type WarehouseRowStream,
  type WarehouseTestReport,
} from '../driver.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { PgliteWorker } from './pglite-worker.js';
import { QueryQueue } from './query-queue.js';
import { Job, asWarehouseError } from './warehouse-job.js';
import type { OpenReport } from './worker-protocol.js';
import { refuseUnguardedWrites } from '../read-only-guard.js';

/** The subset of a pino logger the warehouse writes to. */
export interface WarehouseLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface EmbeddedWarehouseOptions {
  /** Directory of the PostgreSQL cluster; created (with PostGIS) when missing. */
  dataDir: string;
  /** Statements that may wait while one runs; more are refused as `busy`. Default 256. */
  queueLimit?: number;
  /** Longest wait before a statement starts; past it the statement fails as `busy`. Default 30 s. */
  queueTimeoutMs?: number;
  /**
   * Largest result a statement may return, estimated as JSON; larger ones fail as
   * `invalid_input`. Default 64 MiB.
   */
  maxResultBytes?: number;
  logger?: WarehouseLogger;
}

export type EmbeddedWarehouseState = 'ready' | 'restarting' | 'failed' | 'closing' | 'closed';

/** Figures for readiness checks and metrics; cheap to read. */
export interface EmbeddedWarehouseStats {
  state: EmbeddedWarehouseState;
  queued: number;
  running: boolean;
  /** Worker restarts after a timeout or a crash since open. */
  restarts: number;
  timeouts: number;
  /** What the most recent successful worker start measured. */
  lastOpen: OpenReport | undefined;
}

const DEFAULT_QUEUE_LIMIT = 256;
const DEFAULT_QUEUE_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESULT_BYTES = 64 * 1024 * 1024;
// setTimeout fires immediately for delays beyond a signed 32-bit integer.
const MAX_TIMER_MS = 2 ** 31 - 1;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

const silentLogger: WarehouseLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class EmbeddedWarehouse implements WarehouseDriver {
  readonly provider = 'postgres';
  /**
   * PGlite's PostGIS has no ST_AsMVT, so tiles come back as JSON and are encoded here; a
   * running statement can only be stopped by restarting the worker, which every queued
   * statement would feel, so it is not cancellable in the driver's sense.
   */
  readonly capabilities: WarehouseCapabilities = {
    nativeMvt: false,
    jsonTiles: true,
    cancellable: false,
  };
  private state: EmbeddedWarehouseState = 'restarting';
  private worker: PgliteWorker | undefined;
  private running: Job | undefined;
  private runningDone: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = FIRST_RETRY_MS;
  private restarts = 0;
  private timeouts = 0;
  private lastOpen: OpenReport | undefined;
  private readonly queue: QueryQueue<Job>;
  private readonly logger: WarehouseLogger;
  private readonly maxResultBytes: number;

  private constructor(
    private readonly dataDir: string,
    options: EmbeddedWarehouseOptions,
  ) {
    this.maxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
    if (!(this.maxResultBytes > 0)) {
      throw new RangeError(`maxResultBytes must be positive, got ${options.maxResultBytes}`);
    }
    this.queue = new QueryQueue(
      options.queueLimit ?? DEFAULT_QUEUE_LIMIT,
      options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS,
    );
    this.logger = options.logger ?? silentLogger;
  }

  /** Opens (or creates) the warehouse in `options.dataDir`; resolves once it accepts queries. */
  static async open(options: EmbeddedWarehouseOptions): Promise<EmbeddedWarehouse> {
    const warehouse = new EmbeddedWarehouse(options.dataDir, options);
    await warehouse.lockDataDir();
    try {
      await warehouse.startWorker();
    } catch (error) {
      await warehouse.releaseLock?.().catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      throw new WarehouseError(
        'unavailable',
        `Could not open the embedded warehouse in ${options.dataDir}: ${reason}`,
        undefined,
        { cause: error },
      );
    }
    return warehouse;
  }

  /** Releases the data directory's lock; set while this process holds it. */
  private releaseLock: (() => Promise<void>) | undefined;

  /**
   * The warehouse is one PGlite database, which only one process may open: a second one would
   * corrupt it. A lock file, kept fresh while the process lives, makes a second server on the
   * same data directory refuse to start; a lock left by a process that died goes stale within
   * seconds, and the next start waits that long for it.
   */
  private async lockDataDir(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    try {
      this.releaseLock = await lockfile.lock(this.dataDir, {
        // Beside the database directory, not in it: PGlite owns what is inside.
        lockfilePath: `${path.resolve(this.dataDir)}.lock`,
        stale: 5_000,
        update: 2_000,
        retries: { retries: 12, minTimeout: 500, maxTimeout: 1_000 },
        onCompromised: (error) =>
          this.logger.error({ err: error }, 'lost the lock on the embedded warehouse'),
      });
    } catch (error) {
      const locked = (error as { code?: string }).code === 'ELOCKED';
      throw new WarehouseError(
        'unavailable',
        locked
          ? `Another Graticule process uses the embedded warehouse in ${this.dataDir}; ` +
              'nodes sharing a deployment need their own data directories'
          : `Could not lock the embedded warehouse in ${this.dataDir}`,
        undefined,
        { cause: error },
      );
    }
  }

  /** True while a worker is open and statements start as soon as they reach the queue head. */
  isReady(): boolean {
    return this.state === 'ready';
  }

  get stats(): EmbeddedWarehouseStats {
    return {
      state: this.state,
      queued: this.queue.length,
      running: this.running !== undefined,
      restarts: this.restarts,
      timeouts: this.timeouts,
      lastOpen: this.lastOpen,
    };
  }

  query(query: WarehouseQuery): Promise<WarehouseResult> {
    if (this.closing) {
      return Promise.reject(new WarehouseError('unavailable', 'The embedded warehouse is closed'));
    }
    if (this.state === 'failed') {
      return Promise.reject(
        new WarehouseError('unavailable', 'The embedded warehouse is not available; retrying'),
      );
    }
    if (query.signal?.aborted) {
      return Promise.reject(new WarehouseError('cancelled', 'The statement was cancelled'));
    }
    try {
      refuseUnguardedWrites(query);
    } catch (error) {
      return Promise.reject(error as Error);
    }

    return new Promise((resolve, reject) => {
      const job = new Job(query, resolve, reject);
      try {
        this.queue.add(job);
      } catch (error) {
        job.fail(asWarehouseError(error));
        return;
      }
      this.startNext();
    });
  }

  /**
   * PGlite returns a statement's rows at once, within the result byte budget, so the stream
   * is one batch.
   */
  async stream(query: WarehouseQuery): Promise<WarehouseRowStream> {
    const result = await this.query(query);
    async function* rows() {
      if (result.rows.length > 0) yield result.rows;
    }
    return { fields: result.fields, rows: rows(), close: () => Promise.resolve() };
  }

  async test(): Promise<WarehouseTestReport> {
    const started = performance.now();
    const { rows } = await this.query({
      sql: 'SELECT version() AS "server", postgis_lib_version() AS "postgis"',
      timeoutMs: 10_000,
    });
    return {
      serverVersion: String(rows[0]?.server ?? ''),
      postgisVersion: rows[0]?.postgis == null ? null : String(rows[0].postgis),
      latencyMs: Math.round(performance.now() - started),
      capabilities: this.capabilities,
    };
  }

  /** Finishes the running statement, refuses queued ones, then closes PGlite cleanly. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.state = 'closing';
    clearTimeout(this.retryTimer);
    for (const job of this.queue.takeAll()) {
      job.fail(new WarehouseError('unavailable', 'The embedded warehouse is closing'));
    }

    await this.starting?.catch(() => undefined);
    await this.runningDone;
    const worker = this.worker;
    this.worker = undefined;
    await worker?.close();
    this.state = 'closed';
    await this.releaseLock?.().catch(() => undefined);
    this.releaseLock = undefined;
    this.logger.info({ dataDir: this.dataDir }, 'embedded warehouse closed');
  }

  private startWorker(): Promise<void> {
    this.starting = (async () => {
      const { dataDir, maxResultBytes } = this;
      const { worker, report } = await PgliteWorker.start(
        { dataDir, maxResultBytes },
        (failed, error) => this.onWorkerFailure(failed, error),
      );
      if (this.closing) {
        await worker.close();
        return;
      }
      this.worker = worker;
      this.lastOpen = report;
      this.state = 'ready';
      this.retryDelayMs = FIRST_RETRY_MS;
      this.logger.info({ dataDir: this.dataDir, ...report }, 'embedded warehouse opened');
      this.startNext();
    })();
    return this.starting;
  }

  private startNext(): void {
    const worker = this.worker;
    if (this.running || this.state !== 'ready' || !worker) return;
    const job = this.queue.take();
    if (!job) return;

    this.running = job;
    const { sql, params = [], timeoutMs, signal } = job.query;
    const startedAt = performance.now();
    const timer = setTimeout(
      () => this.onStatementTimeout(job, worker),
      Math.min(Math.max(timeoutMs, 0), MAX_TIMER_MS),
    );
    // Killing the worker for one client's disconnect would stall everyone for a restart, so
    // the statement finishes and only its caller is released now.
    const onAbort = () => job.fail(new WarehouseError('cancelled', 'The statement was cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });

    // Bookkeeping comes before settling, because the caller's continuation may read stats.
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      this.logger.debug({ sql, durationMs: performance.now() - startedAt }, 'embedded statement');
      const wasCurrent = this.running === job;
      if (wasCurrent) this.running = undefined;
      settle();
      if (wasCurrent) this.startNext();
    };
    this.runningDone = worker.run(sql, params, job.query.readOnly === true).then(
      (result) => finish(() => job.succeed(result)),
      (error: unknown) => finish(() => job.fail(asWarehouseError(error))),
    );
  }

  private onStatementTimeout(job: Job, worker: PgliteWorker): void {
    if (this.running !== job) return;
    this.running = undefined;
    this.timeouts += 1;
    job.fail(
      new WarehouseError(
        'timeout',
        `The statement did not finish within ${job.query.timeoutMs} ms and was stopped`,
      ),
    );
    // PGlite ignores statement_timeout and cannot be interrupted, so the only way to stop the
    // statement is to end its thread and reopen the data directory.
    this.logger.warn(
      { timeoutMs: job.query.timeoutMs, queued: this.queue.length },
      'embedded warehouse statement timed out; restarting the worker',
    );
    void this.restart(worker);
  }

  private onWorkerFailure(failed: PgliteWorker, error: WarehouseError): void {
    this.logger.error({ err: error }, 'embedded warehouse worker failed; restarting it');
    void this.restart(failed);
  }

  private async restart(failed: PgliteWorker): Promise<void> {
    if (this.worker !== failed) return;
    this.worker = undefined;
    this.restarts += 1;
    if (!this.closing) this.state = 'restarting';
    await failed.terminate();
    if (this.closing) return;

    const startedAt = performance.now();
    try {
      await this.startWorker();
      this.logger.info(
        { restartMs: performance.now() - startedAt },
        'embedded warehouse restarted',
      );
    } catch (error) {
      this.onRestartFailed(error);
    }
  }

  private onRestartFailed(error: unknown): void {
    if (this.closing) return;
    this.state = 'failed';
    for (const job of this.queue.takeAll()) {
      job.fail(
        new WarehouseError('unavailable', 'The embedded warehouse could not restart', undefined, {
          cause: error,
        }),
      );
    }
    this.logger.error(
      { err: error, retryInMs: this.retryDelayMs },
      'embedded warehouse could not restart',
    );
    this.retryTimer = setTimeout(() => {
      this.restarts += 1;
      this.startWorker().catch((retryError: unknown) => this.onRestartFailed(retryError));
    }, this.retryDelayMs);
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, MAX_RETRY_MS);
  }
}
