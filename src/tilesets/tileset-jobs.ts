/**
 * Tileset creations run as background jobs in this server process, one at a time, in the
 * order they were submitted. Jobs live in memory: a restart forgets them, and the temporary
 * table of a job interrupted by a crash stays behind under `_graticule_tileset_*`.
 *
 * TODO: persist tileset jobs in the metadata store's job queue (so they survive restarts
 * and any node of a cluster can run them); that queue holds SQL statements only today.
 */
import { randomBytes } from 'node:crypto';
import type { Connection } from '../connections/connection-registry.js';
import { toApiErrorFromWarehouse } from '../http/error-handler.js';
import { ApiError, errors } from '../http/errors.js';
import { WarehouseError } from '../warehouses/driver.js';
import { buildTileset, type TilesetProgress, type TilesetResult } from './create-tileset.js';
import type { TilesetPlan } from './tileset-plan.js';
import { tilesetErrors } from './tileset-errors.js';

export type TilesetJobStatus = 'pending' | 'running' | 'success' | 'failure' | 'cancelled';

const FINISHED: readonly TilesetJobStatus[] = ['success', 'failure', 'cancelled'];
/** Finished jobs are answered for this long, then forgotten. */
const RETENTION_MS = 24 * 3_600_000;
const MAX_PENDING_JOBS = 32;
/** Why a job's signal fired. */
const JOB_CANCELLED = 'cancelled';
const JOB_TIMED_OUT = 'timed out';
const SERVER_STOPPING = 'server stopping';

export interface TilesetJob {
  id: string;
  accountId: string;
  connectionName: string;
  tileset: string;
  format: string;
  minZoom: number;
  maxZoom: number;
  status: TilesetJobStatus;
  progress: TilesetProgress;
  result: TilesetResult | null;
  error: { message: string; code: string } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface QueuedJob {
  job: TilesetJob;
  plan: TilesetPlan;
  connection: Connection;
  controller: AbortController;
}

export interface TilesetJobLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface TilesetJobRunnerOptions {
  /** Longest one statement of a job may run. */
  statementTimeoutMs: number;
  /** Longest a whole job may run; it is cancelled after that. */
  jobTimeoutMs: number;
  logger: TilesetJobLogger;
}

/** A job as the API answers it: its state and, while it runs, how far it got. */
export function toTilesetJobView(job: TilesetJob) {
  const { progress } = job;
  const fraction = progress.tilesEstimated > 0 ? progress.tilesDone / progress.tilesEstimated : 0;
  return {
    id: job.id,
    status: job.status,
    connectionName: job.connectionName,
    tileset: job.tileset,
    format: job.format,
    minZoom: job.minZoom,
    maxZoom: job.maxZoom,
    progress: { ...progress, fraction: Math.round(Math.min(1, fraction) * 1e4) / 1e4 },
    createdAt: job.createdAt,
    ...(job.startedAt ? { startedAt: job.startedAt } : {}),
    ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
    ...(job.result ? { result: job.result } : {}),
    ...(job.error ? { error: job.error } : {}),
  };
}

export class TilesetJobRunner {
  private readonly jobs = new Map<string, QueuedJob>();
  private readonly queue: QueuedJob[] = [];
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: TilesetJobRunnerOptions) {}

  /** Queues a planned creation; it starts when the jobs before it have ended. */
  submit(accountId: string, connection: Connection, plan: TilesetPlan): TilesetJob {
    if (this.closed) throw errors.warehouseUnavailable('the server is stopping');
    if (this.queue.length >= MAX_PENDING_JOBS) throw tilesetErrors.jobQueueFull(MAX_PENDING_JOBS);
    this.forgetExpired();
    const job: TilesetJob = {
      id: `tileset_job_${randomBytes(12).toString('hex')}`,
      accountId,
      connectionName: connection.name,
      tileset: plan.options.target,
      format: plan.options.format,
      minZoom: plan.options.minZoom,
      maxZoom: plan.options.maxZoom,
      status: 'pending',
      progress: {
        phase: 'tiling',
        zoom: plan.options.minZoom,
        tilesDone: 0,
        tilesEstimated: plan.estimatedTiles,
        tilesWritten: 0,
        bytesWritten: 0,
      },
      result: null,
      error: null,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
    };
    const queued = { job, plan, connection, controller: new AbortController() };
    this.jobs.set(job.id, queued);
    this.queue.push(queued);
    this.running ??= this.drain();
    return job;
  }

  /** The job if it belongs to the account and the connection named; else 404. */
  get(accountId: string, connectionName: string, id: string): TilesetJob {
    const queued = this.jobs.get(id);
    const job = queued?.job;
    if (!job || job.accountId !== accountId || job.connectionName !== connectionName) {
      throw tilesetErrors.jobNotFound(id);
    }
    return job;
  }

  /** Cancels a pending or running job; 400 when it has already ended. */
  cancel(accountId: string, connectionName: string, id: string): TilesetJob {
    const job = this.get(accountId, connectionName, id);
    if (FINISHED.includes(job.status)) throw tilesetErrors.jobAlreadyFinished(id, job.status);
    const queued = this.jobs.get(id)!;
    queued.controller.abort(JOB_CANCELLED);
    if (job.status === 'pending') {
      this.queue.splice(this.queue.indexOf(queued), 1);
      this.finish(job, 'cancelled', null);
    }
    return job;
  }

  /** Cancels every job and waits for the running one to clean up. */
  async close(): Promise<void> {
    this.closed = true;
    for (const queued of this.queue.splice(0)) this.finish(queued.job, 'cancelled', null);
    for (const queued of this.jobs.values()) queued.controller.abort(SERVER_STOPPING);
    await this.running;
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      await this.run(next);
    }
    this.running = undefined;
  }

  private async run({ job, plan, connection, controller }: QueuedJob): Promise<void> {
    const { logger, statementTimeoutMs, jobTimeoutMs } = this.options;
    job.status = 'running';
    job.startedAt = new Date().toISOString();
    const timer = setTimeout(() => controller.abort(JOB_TIMED_OUT), jobTimeoutMs);
    logger.info({ jobId: job.id, connectionId: connection.id }, 'tileset job started');
    try {
      job.result = await buildTileset(connection.driver, plan, {
        timeoutMs: statementTimeoutMs,
        signal: controller.signal,
        onProgress: (progress) => (job.progress = progress),
      });
      this.finish(job, 'success', null);
    } catch (error) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
      if (reason === JOB_CANCELLED) {
        this.finish(job, 'cancelled', null);
      } else if (reason === JOB_TIMED_OUT) {
        const message = `The job ran longer than ${jobTimeoutMs} ms and was stopped`;
        this.finish(job, 'failure', { message, code: 'tileset_job_timeout' });
      } else if (reason === SERVER_STOPPING) {
        const message = 'The server stopped while the job was running';
        this.finish(job, 'failure', { message, code: 'job_interrupted' });
      } else {
        const apiError = this.apiErrorOf(error, job);
        this.finish(job, 'failure', { message: apiError.message, code: apiError.code });
      }
    } finally {
      clearTimeout(timer);
    }
    logger.info({ jobId: job.id, status: job.status }, 'tileset job ended');
  }

  private apiErrorOf(error: unknown, job: TilesetJob): ApiError {
    if (error instanceof ApiError) return error;
    if (error instanceof WarehouseError) {
      return toApiErrorFromWarehouse(error, this.options.statementTimeoutMs);
    }
    this.options.logger.error({ err: error, jobId: job.id }, 'tileset job failed');
    return errors.internal();
  }

  private finish(job: TilesetJob, status: TilesetJobStatus, error: TilesetJob['error']): void {
    job.status = status;
    job.error = error;
    job.finishedAt = new Date().toISOString();
  }

  private forgetExpired(): void {
    const cutoff = Date.now() - RETENTION_MS;
    for (const [id, { job }] of this.jobs) {
      if (job.finishedAt && Date.parse(job.finishedAt) < cutoff) this.jobs.delete(id);
    }
  }
}
