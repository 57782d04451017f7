import { CompiledQuery } from 'kysely';
import PgBoss from 'pg-boss';
import { withStoreLock } from '../store/store-lock.js';
import type { Store } from '../store/store.js';
import type {
  JobError,
  JobListQuery,
  JobOutcome,
  JobPage,
  JobQueue,
  NewSqlJob,
  SqlJob,
  WorkerIdentity,
} from './job-queue.js';
import { StoreJobQueue } from './store-job-queue.js';

/** The schema pg-boss creates, and migrates, in the metadata database when it starts. */
export const PG_BOSS_SCHEMA = 'graticule_pgboss';

/** The pg-boss queue holding one dispatch message per pending SQL job. */
export const SQL_JOB_QUEUE = 'graticule-sql-jobs';

/** What a dispatch message carries: the job record to claim. */
interface Dispatch {
  externalId: string;
}

/**
 * pg-boss hands out higher priorities first, then older messages. A job put back by `release`
 * was the oldest pending one when it was claimed, so it goes back ahead of the jobs queued
 * behind it.
 */
const RELEASED_PRIORITY = 1;

/** An unclaimed dispatch is kept as long as finished job records are. */
const DISPATCH_RETENTION_MINUTES = 30 * 24 * 60;

/** The subset of a pino logger the queue writes to. */
export interface QueueLogger {
  error(obj: object, msg: string): void;
}

/** Lets pg-boss run its statements inside an open transaction of the store. */
function transactionDb(tx: Store): PgBoss.Db {
  return {
    async executeSql(text: string, values: unknown[] | undefined) {
      const result = await tx.executeQuery(CompiledQuery.raw(text, values ?? []));
      return { rows: result.rows as unknown[] };
    },
  };
}

/**
 * Lets pg-boss run its own statements on the store's pool. Some are scripts with their own
 * `BEGIN ... COMMIT` (schema creation, maintenance); one that fails midway would hand its
 * session back to the pool inside an aborted transaction, so a failure is followed by a
 * ROLLBACK on the same session (a no-op when no transaction is open).
 */
function poolDb(store: Store): PgBoss.Db {
  return {
    executeSql: (text: string, values: unknown[] | undefined) =>
      store.connection().execute(async (session) => {
        try {
          const result = await session.executeQuery(CompiledQuery.raw(text, values ?? []));
          return { rows: result.rows as unknown[] };
        } catch (error) {
          await session.executeQuery(CompiledQuery.raw('ROLLBACK')).catch(() => undefined);
          throw error;
        }
      }),
  };
}

/**
 * SQL jobs on a PostgreSQL metadata store. The job records users see (status, lists, errors,
 * metadata, leases) stay in the store's `sql_jobs` table, as on SQLite; pg-boss carries the
 * dispatch: one message per pending job, handed to whichever node asks first, never to two.
 *
 * Each step that touches both happens in one transaction of the store:
 * - `enqueue` inserts the record and sends its message together, so no job lacks one;
 * - `claimNext` fetches a message (pg-boss locks it with `FOR UPDATE SKIP LOCKED`), moves the
 *   record from pending to running only if it is still pending, and completes the message.
 *   A job cancelled while pending is not pending any more: its message is completed unrun.
 *   A node that dies before the commit leaves the message waiting for another node.
 *
 * Running jobs are not pg-boss's: its expiry would hand an active message to another node,
 * running again a statement that may have taken effect, while the interface requires that a
 * job whose node died ends as `failure`/`job_interrupted`. So the message is completed at the
 * claim, and the record's lease (renewed by the runner's heartbeat, reaped by `failAbandoned`)
 * decides what becomes of a running job, with the same statements as on SQLite.
 */
export class PgBossJobQueue implements JobQueue {
  private readonly records: StoreJobQueue;
  private readonly boss: PgBoss;

  constructor(
    private readonly store: Store,
    logger: QueueLogger,
  ) {
    this.records = new StoreJobQueue(store);
    this.boss = new PgBoss({
      db: poolDb(store),
      schema: PG_BOSS_SCHEMA,
      // Maintenance (archiving completed messages) runs on one node at a time; no cron jobs.
      supervise: true,
      schedule: false,
      migrate: true,
    });
    this.boss.on('error', (error) => logger.error({ err: error }, 'SQL job dispatch failed'));
  }

  /**
   * Creates (or migrates) pg-boss's schema and the queue. Nodes starting at once take turns,
   * so the first creates them and the others find them made.
   */
  async start(): Promise<void> {
    await withStoreLock(this.store, 'job-queue', async () => {
      await this.boss.start();
      await this.boss.createQueue(SQL_JOB_QUEUE, {
        name: SQL_JOB_QUEUE,
        policy: 'standard',
        retryLimit: 0,
        retentionMinutes: DISPATCH_RETENTION_MINUTES,
      });
    });
  }

  async stop(): Promise<void> {
    // The store's pool is not pg-boss's to close.
    await this.boss.stop({ graceful: true, wait: true, close: false });
  }

  async enqueue(job: NewSqlJob, now: Date): Promise<SqlJob> {
    return this.store.transaction().execute(async (tx) => {
      const created = await new StoreJobQueue(tx).enqueue(job, now);
      await this.dispatch(tx, created.externalId, {});
      return created;
    });
  }

  async claimNext(worker: WorkerIdentity, leaseMs: number, now: Date): Promise<SqlJob | undefined> {
    for (;;) {
      const step = await this.store.transaction().execute(async (tx) => {
        const db = transactionDb(tx);
        // pg-boss answers a failed fetch as an empty one; the transaction then rolls back and
        // the runner's next poll tries again.
        const [message] = await this.boss.fetch<Dispatch>(SQL_JOB_QUEUE, { batchSize: 1, db });
        if (!message) return { isQueueEmpty: true as const };
        const job = await new StoreJobQueue(tx).claim(
          worker,
          message.data.externalId,
          leaseMs,
          now,
        );
        await this.boss.complete(SQL_JOB_QUEUE, message.id, { claimed: job !== undefined }, { db });
        return { isQueueEmpty: false as const, job };
      });
      if (step.isQueueEmpty) return undefined;
      if (step.job) return step.job;
      // The message named a job that was cancelled meanwhile; look at the next one.
    }
  }

  async release(worker: WorkerIdentity, externalId: string, now: Date): Promise<void> {
    await this.store.transaction().execute(async (tx) => {
      const isReleased = await new StoreJobQueue(tx).releaseHeld(worker, externalId, now);
      if (isReleased) await this.dispatch(tx, externalId, { priority: RELEASED_PRIORITY });
    });
  }

  find(accountId: string, externalId: string): Promise<SqlJob | undefined> {
    return this.records.find(accountId, externalId);
  }

  list(accountId: string, query: JobListQuery): Promise<JobPage> {
    return this.records.list(accountId, query);
  }

  renewLeases(
    worker: WorkerIdentity,
    externalIds: readonly string[],
    leaseMs: number,
    now: Date,
  ): Promise<string[]> {
    return this.records.renewLeases(worker, externalIds, leaseMs, now);
  }

  finish(
    worker: WorkerIdentity,
    externalId: string,
    outcome: JobOutcome,
    now: Date,
  ): Promise<boolean> {
    return this.records.finish(worker, externalId, outcome, now);
  }

  /** A cancelled pending job keeps its message until a claim completes it unrun. */
  cancel(accountId: string, externalId: string, now: Date): Promise<SqlJob | undefined> {
    return this.records.cancel(accountId, externalId, now);
  }

  failAbandoned(worker: WorkerIdentity, error: JobError, now: Date): Promise<string[]> {
    return this.records.failAbandoned(worker, error, now);
  }

  deleteFinishedBefore(cutoff: Date): Promise<number> {
    return this.records.deleteFinishedBefore(cutoff);
  }

  private async dispatch(
    tx: Store,
    externalId: string,
    options: { priority?: number },
  ): Promise<void> {
    const data: Dispatch = { externalId };
    const id = await this.boss.send(SQL_JOB_QUEUE, data, { ...options, db: transactionDb(tx) });
    // pg-boss answers null, without an error, when the queue does not exist.
    if (id === null) throw new Error(`The job queue ${SQL_JOB_QUEUE} does not exist`);
  }
}
