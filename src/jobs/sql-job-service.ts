import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { errors } from '../http/errors.js';
import { dialectOf } from '../store/store-dialect.js';
import type { Store } from '../store/store.js';
import { analyzeSql } from '../warehouses/postgres-sql-text.js';
import { interruptedJobError } from './job-failure.js';
import {
  FINISHED_STATUSES,
  type JobPage,
  type JobQueue,
  type SqlJob,
  type SqlJobStatus,
  type WorkerIdentity,
} from './job-queue.js';
import {
  DEFAULT_RUNNER_TIMING,
  JobRunner,
  type ConnectionResolver,
  type JobLogger,
  type JobRunnerTiming,
} from './job-runner.js';
import { PgBossJobQueue } from './pg-boss-job-queue.js';
import { StoreJobQueue } from './store-job-queue.js';

/** Finished jobs are kept this long, then deleted. */
export const JOB_RETENTION_DAYS = 30;
const DAY_MS = 24 * 3_600_000;
const RETENTION_SWEEP_MS = 3_600_000;

/** Who creates or reads jobs: the verified caller of the request. */
export interface JobCaller {
  accountId: string;
  subject: string;
}

export interface NewJobInput {
  query: string;
  /** Positional bind values; empty when none. */
  queryParameters: unknown[];
}

export interface JobListOptions {
  page: number;
  pageSize: number;
  status?: SqlJobStatus;
}

export interface SqlJobServiceOptions {
  queue: JobQueue;
  connections: ConnectionResolver;
  /** Stable name of this node; see `nodeIdFor`. */
  nodeId: string;
  concurrency: number;
  jobTimeoutMs: number;
  logger: JobLogger;
  timing?: Partial<JobRunnerTiming>;
  now?: () => Date;
}

/**
 * A name for this node that survives its restarts, so jobs left running by its previous start
 * are recognised at once. Several nodes on one host never share a data directory (each has
 * its own embedded warehouse), so host name and data directory together tell them apart.
 */
export function nodeIdFor(dataDir: string): string {
  const dirHash = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  return `${os.hostname()}/${dirHash}`;
}

function newJobId(): string {
  return `job_${randomBytes(16).toString('hex')}`;
}

/** Checks that a job's SQL holds exactly one statement; 400 naming `query` otherwise. */
function checkSingleStatement(query: string): void {
  const shape = analyzeSql(query);
  if (shape.body.trim() === '') throw errors.invalidParameter('query', 'the query is empty');
  if (shape.hasMultipleStatements) {
    throw errors.invalidParameter('query', 'send one statement per job');
  }
}

/**
 * Async SQL jobs: create, read, cancel and list them for an account, and run them in the
 * background. Jobs are visible only to the account that created them.
 */
export class SqlJobService {
  readonly worker: WorkerIdentity;
  private readonly runner: JobRunner;
  private readonly queue: JobQueue;
  private readonly now: () => Date;
  private retentionTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SqlJobServiceOptions) {
    this.queue = options.queue;
    this.now = options.now ?? (() => new Date());
    this.worker = { nodeId: options.nodeId, incarnation: randomBytes(8).toString('hex') };
    this.runner = new JobRunner({
      queue: options.queue,
      connections: options.connections,
      worker: this.worker,
      concurrency: options.concurrency,
      jobTimeoutMs: options.jobTimeoutMs,
      timing: { ...DEFAULT_RUNNER_TIMING, ...options.timing },
      logger: options.logger,
      now: this.now,
    });
  }

  /**
   * Ends the jobs an earlier start of this node left running (as failures: a statement that
   * may have taken effect is never run again unasked), deletes expired jobs, and starts
   * running pending ones.
   */
  async start(): Promise<void> {
    await this.queue.start?.();
    const interrupted = await this.queue.failAbandoned(
      this.worker,
      interruptedJobError(),
      this.now(),
    );
    if (interrupted.length > 0) {
      this.options.logger.warn({ jobs: interrupted }, 'SQL jobs were interrupted by a restart');
    }
    await this.deleteExpiredJobs();
    this.retentionTimer = setInterval(() => void this.deleteExpiredJobs(), RETENTION_SWEEP_MS);
    this.retentionTimer.unref();
    this.runner.start();
  }

  /** Stops running jobs, recording them as interrupted failures; pending ones stay queued. */
  async stop(): Promise<void> {
    clearInterval(this.retentionTimer);
    await this.runner.stop();
    await this.queue.stop?.();
  }

  async create(caller: JobCaller, connectionName: string, input: NewJobInput): Promise<SqlJob> {
    checkSingleStatement(input.query);
    const connection = await this.options.connections.resolve(caller.accountId, connectionName);

    const job = await this.queue.enqueue(
      {
        externalId: newJobId(),
        accountId: caller.accountId,
        createdBy: caller.subject,
        connectionId: connection.id,
        connectionName: connection.name,
        connectionProvider: connection.provider,
        query: input.query,
        queryParameters: input.queryParameters.length > 0 ? input.queryParameters : null,
      },
      this.now(),
    );
    this.runner.wake();
    return job;
  }

  /** The job, if it belongs to the account and to the connection named in the path; else 404. */
  async get(accountId: string, connectionName: string, externalId: string): Promise<SqlJob> {
    const job = await this.queue.find(accountId, externalId);
    if (!job || job.connectionName !== connectionName) throw errors.jobNotFound(externalId);
    return job;
  }

  /**
   * Cancels a pending job at once, or a running one by aborting its statement (a job running
   * on another node stops at that node's next heartbeat). 400 when the job already finished.
   */
  async cancel(accountId: string, connectionName: string, externalId: string): Promise<SqlJob> {
    const job = await this.get(accountId, connectionName, externalId);
    if (FINISHED_STATUSES.includes(job.status)) {
      throw errors.jobAlreadyFinished(externalId, job.status);
    }

    const cancelled = await this.queue.cancel(accountId, externalId, this.now());
    if (!cancelled) {
      // It finished between the read and the update.
      const latest = await this.get(accountId, connectionName, externalId);
      throw errors.jobAlreadyFinished(externalId, latest.status);
    }
    await this.runner.abort(externalId);
    return cancelled;
  }

  /** An account's jobs (or those `createdBy` created), newest first. */
  list(accountId: string, options: JobListOptions, createdBy?: string): Promise<JobPage> {
    return this.queue.list(accountId, {
      status: options.status,
      ...(createdBy !== undefined && { createdBy }),
      offset: (options.page - 1) * options.pageSize,
      limit: options.pageSize,
    });
  }

  private async deleteExpiredJobs(): Promise<void> {
    const cutoff = new Date(this.now().getTime() - JOB_RETENTION_DAYS * DAY_MS);
    try {
      const deleted = await this.queue.deleteFinishedBefore(cutoff);
      if (deleted > 0) this.options.logger.info({ deleted }, 'deleted expired SQL jobs');
    } catch (error) {
      this.options.logger.error({ err: error }, 'deleting expired SQL jobs failed');
    }
  }
}

/** The job queue of a store: pg-boss dispatch on PostgreSQL, the store's records on SQLite. */
export function jobQueueFor(store: Store, logger: JobLogger): JobQueue {
  return dialectOf(store) === 'postgres'
    ? new PgBossJobQueue(store, logger)
    : new StoreJobQueue(store);
}

/**
 * The job service of a server: jobs in the metadata store, run on this node (and, on a
 * PostgreSQL store, on whichever node of the cluster claims them first).
 */
export function createSqlJobService(deps: {
  store: Store;
  connections: ConnectionResolver;
  dataDir: string;
  concurrency: number;
  jobTimeoutMs: number;
  /** How long a running job's claim lasts unrenewed; heartbeats come four times as often. */
  leaseMs?: number;
  logger: JobLogger;
}): SqlJobService {
  const leaseMs = deps.leaseMs ?? DEFAULT_RUNNER_TIMING.leaseMs;
  return new SqlJobService({
    queue: jobQueueFor(deps.store, deps.logger),
    connections: deps.connections,
    nodeId: nodeIdFor(deps.dataDir),
    concurrency: deps.concurrency,
    jobTimeoutMs: deps.jobTimeoutMs,
    logger: deps.logger,
    timing: { leaseMs, heartbeatIntervalMs: Math.max(Math.floor(leaseMs / 4), 500) },
  });
}
