import { performance } from 'node:perf_hooks';
import type { Connection } from '../connections/connection-registry.js';
import { errors } from '../http/errors.js';
import { WarehouseError } from '../warehouses/driver.js';
import { analyzeSql } from '../warehouses/postgres-sql-text.js';
import { describeJobFailure, interruptedJobError, isExpectedFailure } from './job-failure.js';
import type { JobOutcome, JobQueue, SqlJob, WorkerIdentity } from './job-queue.js';

/** The subset of a pino logger the job runner writes to. */
export interface JobLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Finds the driver of a job's connection (the `ConnectionRegistry`). */
export interface ConnectionResolver {
  resolve(accountId: string, name: string): Promise<Connection>;
}

/** How often the runner looks at the queue and proves it is alive. */
export interface JobRunnerTiming {
  /** Looks for pending jobs this often, besides being woken when one is created here. */
  pollIntervalMs: number;
  /** Renews the leases of running jobs (and reaps other nodes' expired ones) this often. */
  heartbeatIntervalMs: number;
  /** A claim not renewed for this long counts as abandoned; several heartbeats long. */
  leaseMs: number;
  /** At stop, how long to wait for aborted statements to return. */
  stopGraceMs: number;
}

export const DEFAULT_RUNNER_TIMING: JobRunnerTiming = {
  pollIntervalMs: 1_000,
  heartbeatIntervalMs: 15_000,
  leaseMs: 60_000,
  stopGraceMs: 10_000,
};

export interface JobRunnerOptions {
  queue: JobQueue;
  connections: ConnectionResolver;
  worker: WorkerIdentity;
  /** Jobs this process runs at once. */
  concurrency: number;
  jobTimeoutMs: number;
  timing: JobRunnerTiming;
  logger: JobLogger;
  now: () => Date;
}

interface ActiveRun {
  controller: AbortController;
  done: Promise<void>;
}

/** Resolves once every promise settled, or after `ms`, whichever comes first. */
async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([Promise.allSettled(promises), deadline]);
  clearTimeout(timer);
}

/**
 * The worker loop: claims pending jobs up to the concurrency limit, runs each statement on its
 * connection with the job timeout, records how it ended, and keeps its claims alive with a
 * heartbeat. A job that someone else ended meanwhile (a cancel, a reap) is aborted here.
 */
export class JobRunner {
  private readonly active = new Map<string, ActiveRun>();
  private pollTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private filling: Promise<void> | undefined;
  private isRefillRequested = false;
  private isStopped = true;

  constructor(private readonly options: JobRunnerOptions) {}

  /** Jobs this process is running now. */
  get runningJobIds(): string[] {
    return [...this.active.keys()];
  }

  start(): void {
    const { pollIntervalMs, heartbeatIntervalMs } = this.options.timing;
    this.isStopped = false;
    // Timers alone must not keep a stopping process alive.
    this.pollTimer = setInterval(() => this.wake(), pollIntervalMs).unref();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), heartbeatIntervalMs).unref();
    this.wake();
  }

  /** Claims pending jobs now, up to the concurrency limit; called when a job is created. */
  wake(): void {
    if (this.isStopped) return;
    if (this.filling) {
      this.isRefillRequested = true;
      return;
    }
    this.filling = this.fillSlots()
      .catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'claiming SQL jobs failed');
      })
      .finally(() => {
        this.filling = undefined;
        if (this.isRefillRequested) {
          this.isRefillRequested = false;
          this.wake();
        }
      });
  }

  /**
   * Aborts the statement of a job running here, and resolves once it returned (or after the
   * stop grace period). Resolves at once when the job does not run here.
   */
  async abort(externalId: string): Promise<void> {
    const run = this.active.get(externalId);
    if (!run) return;
    run.controller.abort();
    await settleWithin([run.done], this.options.timing.stopGraceMs);
  }

  /**
   * Stops claiming, records every running job as interrupted, aborts their statements and
   * waits a bounded time for them to return. Pending jobs stay queued for the next start.
   */
  async stop(): Promise<void> {
    const { queue, worker, logger, now, timing } = this.options;
    this.isStopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.heartbeatTimer);
    await this.filling;

    const runs = [...this.active.entries()];
    const error = interruptedJobError();
    for (const [externalId, run] of runs) {
      // Recorded before the abort, so the run does not record itself as cancelled first.
      await queue
        .finish(worker, externalId, { status: 'failure', error }, now())
        .catch((err: unknown) => logger.error({ err, jobId: externalId }, 'recording failed'));
      run.controller.abort();
    }
    if (runs.length > 0) {
      logger.warn({ jobs: runs.map(([id]) => id) }, 'stopped running SQL jobs at shutdown');
    }
    await settleWithin(
      runs.map(([, run]) => run.done),
      timing.stopGraceMs,
    );
  }

  private async fillSlots(): Promise<void> {
    const { queue, worker, timing, now, concurrency } = this.options;
    while (!this.isStopped && this.active.size < concurrency) {
      const job = await queue.claimNext(worker, timing.leaseMs, now());
      if (!job) return;
      if (this.isStopped) {
        // Stopping began while the claim was on its way; the statement never started.
        await queue.release(worker, job.externalId, now());
        return;
      }
      this.launch(job);
    }
  }

  private launch(job: SqlJob): void {
    const controller = new AbortController();
    const done = this.run(job, controller.signal).finally(() => {
      this.active.delete(job.externalId);
      this.wake();
    });
    this.active.set(job.externalId, { controller, done });
  }

  private async run(job: SqlJob, signal: AbortSignal): Promise<void> {
    const { queue, worker, logger, now } = this.options;
    const context = { jobId: job.externalId, connectionId: job.connectionId };
    logger.info(context, 'SQL job started');
    logger.debug({ ...context, sql: job.query }, 'SQL job statement');
    const startedMs = performance.now();

    let outcome: JobOutcome;
    try {
      const rowCount = await this.execute(job, signal);
      const durationMs = Math.round(performance.now() - startedMs);
      outcome = { status: 'success', metadata: { rowCount, durationMs } };
    } catch (error) {
      outcome = this.outcomeOfError(job, error, signal, performance.now() - startedMs);
    }

    try {
      const isRecorded = await queue.finish(worker, job.externalId, outcome, now());
      logger.info(
        { ...context, status: outcome.status, code: outcome.error?.code, isRecorded },
        'SQL job ended',
      );
    } catch (error) {
      logger.error({ ...context, err: error }, 'recording the end of a SQL job failed');
    }
  }

  /** Runs the statement as written (no row limit) and discards its rows; answers their count. */
  private async execute(job: SqlJob, signal: AbortSignal): Promise<number> {
    const connection = await this.options.connections.resolve(job.accountId, job.connectionName);
    // A connection removed and created again under the same name may reach another warehouse.
    if (connection.id !== job.connectionId) throw errors.connectionNotFound(job.connectionName);

    // Read in batches and thrown away, so a job that returns rows never holds them all.
    const stream = await connection.driver.stream({
      sql: analyzeSql(job.query).body,
      params: job.queryParameters ?? [],
      timeoutMs: this.options.jobTimeoutMs,
      signal,
    });
    let rowCount = 0;
    try {
      for await (const rows of stream.rows) rowCount += rows.length;
    } finally {
      await stream.close();
    }
    if (signal.aborted) throw new WarehouseError('cancelled', 'The statement was cancelled');
    return rowCount;
  }

  private outcomeOfError(
    job: SqlJob,
    error: unknown,
    signal: AbortSignal,
    elapsedMs: number,
  ): JobOutcome {
    const metadata = { durationMs: Math.round(elapsedMs) };
    // An abort means someone else already ended the job (cancel, stop or reap); this outcome
    // is recorded only if, against expectations, the job is still marked running.
    if (signal.aborted) return { status: 'cancelled', metadata };
    if (!isExpectedFailure(error)) {
      this.options.logger.error({ err: error, jobId: job.externalId }, 'SQL job failed');
    }
    return {
      status: 'failure',
      error: describeJobFailure(error, this.options.jobTimeoutMs),
      metadata,
    };
  }

  private async heartbeat(): Promise<void> {
    const { queue, worker, timing, logger, now } = this.options;
    try {
      const ids = [...this.active.keys()];
      const held = new Set(await queue.renewLeases(worker, ids, timing.leaseMs, now()));
      for (const id of ids) {
        if (held.has(id)) continue;
        // Cancelled through another node (or just as it was claimed here), or reaped after
        // this process stalled: stop it here.
        this.active.get(id)?.controller.abort();
      }
      const reaped = await queue.failAbandoned(worker, interruptedJobError(), now());
      if (reaped.length > 0) {
        logger.warn({ jobs: reaped }, 'ended SQL jobs whose server stopped running them');
      }
    } catch (error) {
      logger.error({ err: error }, 'SQL job heartbeat failed');
    }
  }
}
