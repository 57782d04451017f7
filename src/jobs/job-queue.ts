/**
 * Persistence of async SQL jobs, as the runner and the service need it. On a SQLite metadata
 * store `StoreJobQueue` implements it; on a PostgreSQL one `PgBossJobQueue` does (the same job
 * records, dispatched to the nodes through pg-boss). The runner relies only on the guarantees
 * written here, never on either database.
 */
import type { SqlJobStatus } from '../store/schema.js';

export type { SqlJobStatus };

export const FINISHED_STATUSES: readonly SqlJobStatus[] = ['success', 'failure', 'cancelled'];

/** Why a job failed, as users see it: the same message and code the SQL API would answer. */
export interface JobError {
  message: string;
  code: string;
}

/** What is known about a finished run. */
export interface JobMetadata {
  /** Rows the statement returned; jobs discard them (results go to tables). */
  rowCount?: number;
  durationMs?: number;
}

export interface SqlJob {
  externalId: string;
  accountId: string;
  createdBy: string;
  connectionId: string;
  connectionName: string;
  connectionProvider: string;
  query: string;
  queryParameters: unknown[] | null;
  status: SqlJobStatus;
  error: JobError | null;
  metadata: JobMetadata | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Who runs (or last ran) the job; null while pending. */
  lease: { nodeId: string; incarnation: string; expiresAt: string } | null;
}

export type NewSqlJob = Pick<
  SqlJob,
  | 'externalId'
  | 'accountId'
  | 'createdBy'
  | 'connectionId'
  | 'connectionName'
  | 'connectionProvider'
  | 'query'
  | 'queryParameters'
>;

/**
 * Identifies one running server process: `nodeId` stays the same across restarts of a node,
 * `incarnation` is new at every start. A job held by an older incarnation of this node was
 * interrupted by a restart.
 */
export interface WorkerIdentity {
  nodeId: string;
  incarnation: string;
}

export interface JobOutcome {
  status: 'success' | 'failure' | 'cancelled';
  error?: JobError;
  metadata?: JobMetadata;
}

export interface JobListQuery {
  status?: SqlJobStatus;
  /** Only the jobs this token subject created. */
  createdBy?: string;
  offset: number;
  limit: number;
}

export interface JobPage {
  jobs: SqlJob[];
  total: number;
}

export interface JobQueue {
  /** Prepares what the queue needs before its first claim; the service calls it at start. */
  start?(): Promise<void>;
  /** Releases what `start` opened; the service calls it after its runner stopped. */
  stop?(): Promise<void>;
  enqueue(job: NewSqlJob, now: Date): Promise<SqlJob>;
  /** The job of that account, or undefined (another account's job is never returned). */
  find(accountId: string, externalId: string): Promise<SqlJob | undefined>;
  /** An account's jobs, newest first, with the count of all that match. */
  list(accountId: string, query: JobListQuery): Promise<JobPage>;
  /**
   * Atomically moves the oldest pending job to `running`, held by `worker` until `leaseMs`
   * from `now`. Two workers never claim the same job. Undefined when nothing is pending.
   */
  claimNext(worker: WorkerIdentity, leaseMs: number, now: Date): Promise<SqlJob | undefined>;
  /**
   * Extends the leases of running jobs `worker` holds; answers the ids it still holds. A job
   * missing from the answer was ended by someone else (cancelled, or reaped as abandoned).
   */
  renewLeases(
    worker: WorkerIdentity,
    externalIds: readonly string[],
    leaseMs: number,
    now: Date,
  ): Promise<string[]>;
  /** Puts a job `worker` claimed but never started back in the queue, in its old place. */
  release(worker: WorkerIdentity, externalId: string, now: Date): Promise<void>;
  /** Records how a running job `worker` holds ended; false when it no longer held it. */
  finish(
    worker: WorkerIdentity,
    externalId: string,
    outcome: JobOutcome,
    now: Date,
  ): Promise<boolean>;
  /** Moves a pending or running job to `cancelled`; undefined when it had already finished. */
  cancel(accountId: string, externalId: string, now: Date): Promise<SqlJob | undefined>;
  /**
   * Fails running jobs whose claimer is gone: their lease expired, or an older incarnation of
   * `worker`'s node holds them. They are not re-run: the statement may have taken effect.
   */
  failAbandoned(worker: WorkerIdentity, error: JobError, now: Date): Promise<string[]>;
  /** Deletes finished jobs that finished before `cutoff`; answers how many. */
  deleteFinishedBefore(cutoff: Date): Promise<number>;
}
