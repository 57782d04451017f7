import type { Selectable } from 'kysely';
import type { SqlJobsTable } from '../store/schema.js';
import { dialectOf } from '../store/store-dialect.js';
import type { Store } from '../store/store.js';
import {
  FINISHED_STATUSES,
  type JobError,
  type JobListQuery,
  type JobOutcome,
  type JobPage,
  type JobQueue,
  type NewSqlJob,
  type SqlJob,
  type WorkerIdentity,
} from './job-queue.js';

type JobRow = Selectable<SqlJobsTable>;

function parseJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

function toJob(row: JobRow): SqlJob {
  const hasLease = row.node_id !== null && row.node_incarnation !== null && row.lease_expires_at;
  return {
    externalId: row.external_id,
    accountId: row.account_id,
    createdBy: row.created_by,
    connectionId: row.connection_id,
    connectionName: row.connection_name,
    connectionProvider: row.connection_provider,
    query: row.query,
    queryParameters: parseJson<unknown[]>(row.query_parameters),
    status: row.status,
    error:
      row.error_code !== null ? { message: row.error_message ?? '', code: row.error_code } : null,
    metadata: parseJson(row.metadata),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    lease: hasLease
      ? {
          nodeId: row.node_id!,
          incarnation: row.node_incarnation!,
          expiresAt: row.lease_expires_at!,
        }
      : null,
  };
}

function leaseEnd(now: Date, leaseMs: number): string {
  return new Date(now.getTime() + leaseMs).toISOString();
}

function claimColumns(worker: WorkerIdentity, leaseMs: number, now: Date) {
  const at = now.toISOString();
  return {
    status: 'running' as const,
    started_at: at,
    updated_at: at,
    node_id: worker.nodeId,
    node_incarnation: worker.incarnation,
    lease_expires_at: leaseEnd(now, leaseMs),
  };
}

/**
 * The job queue in the metadata store. Every state change is one conditional UPDATE (`WHERE
 * status = ...`), so concurrent writers (API nodes, the runner, a cancel) never both win: on
 * SQLite each statement is atomic because the database has a single writer; on PostgreSQL the
 * UPDATE re-checks its condition on the row it locked. The PostgreSQL store dispatches jobs
 * through pg-boss (`PgBossJobQueue`), which keeps these records and uses `claim` below.
 */
export class StoreJobQueue implements JobQueue {
  constructor(private readonly store: Store) {}

  async enqueue(job: NewSqlJob, now: Date): Promise<SqlJob> {
    const at = now.toISOString();
    const row = await this.store
      .insertInto('sql_jobs')
      .values({
        external_id: job.externalId,
        account_id: job.accountId,
        created_by: job.createdBy,
        connection_id: job.connectionId,
        connection_name: job.connectionName,
        connection_provider: job.connectionProvider,
        query: job.query,
        query_parameters: job.queryParameters ? JSON.stringify(job.queryParameters) : null,
        status: 'pending',
        created_at: at,
        updated_at: at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toJob(row);
  }

  async find(accountId: string, externalId: string): Promise<SqlJob | undefined> {
    const row = await this.store
      .selectFrom('sql_jobs')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
    return row && toJob(row);
  }

  async list(accountId: string, query: JobListQuery): Promise<JobPage> {
    let matching = this.store.selectFrom('sql_jobs').where('account_id', '=', accountId);
    if (query.status) matching = matching.where('status', '=', query.status);
    if (query.createdBy !== undefined) {
      matching = matching.where('created_by', '=', query.createdBy);
    }

    const rows = await matching
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(query.limit)
      .offset(query.offset)
      .execute();
    const { total } = await matching
      .select((eb) => eb.fn.countAll<number>().as('total'))
      .executeTakeFirstOrThrow();
    return { jobs: rows.map(toJob), total: Number(total) };
  }

  async claimNext(worker: WorkerIdentity, leaseMs: number, now: Date): Promise<SqlJob | undefined> {
    const isPostgres = dialectOf(this.store) === 'postgres';
    const row = await this.store
      .updateTable('sql_jobs')
      .set(claimColumns(worker, leaseMs, now))
      .where('seq', '=', (eb) =>
        eb
          .selectFrom('sql_jobs')
          .select('seq')
          .where('status', '=', 'pending')
          .orderBy('seq')
          .limit(1)
          // Concurrent claimers on PostgreSQL pass over a row another one is taking, instead
          // of waiting for it and then finding it taken.
          .$if(isPostgres, (query) => query.forUpdate().skipLocked()),
      )
      // Re-checked by the UPDATE itself, so a job cancelled or claimed meanwhile is left alone.
      .where('status', '=', 'pending')
      .returningAll()
      .executeTakeFirst();
    return row && toJob(row);
  }

  /** Moves one pending job to `running`, held by `worker`; undefined when it is not pending. */
  async claim(
    worker: WorkerIdentity,
    externalId: string,
    leaseMs: number,
    now: Date,
  ): Promise<SqlJob | undefined> {
    const row = await this.store
      .updateTable('sql_jobs')
      .set(claimColumns(worker, leaseMs, now))
      .where('external_id', '=', externalId)
      .where('status', '=', 'pending')
      .returningAll()
      .executeTakeFirst();
    return row && toJob(row);
  }

  async renewLeases(
    worker: WorkerIdentity,
    externalIds: readonly string[],
    leaseMs: number,
    now: Date,
  ): Promise<string[]> {
    if (externalIds.length === 0) return [];
    const rows = await this.store
      .updateTable('sql_jobs')
      .set({ lease_expires_at: leaseEnd(now, leaseMs) })
      .where('external_id', 'in', externalIds)
      .where('status', '=', 'running')
      .where('node_id', '=', worker.nodeId)
      .where('node_incarnation', '=', worker.incarnation)
      .returning('external_id')
      .execute();
    return rows.map((row) => row.external_id);
  }

  async release(worker: WorkerIdentity, externalId: string, now: Date): Promise<void> {
    await this.releaseHeld(worker, externalId, now);
  }

  /** `release`, answering whether `worker` still held the job (and so put it back). */
  async releaseHeld(worker: WorkerIdentity, externalId: string, now: Date): Promise<boolean> {
    const result = await this.store
      .updateTable('sql_jobs')
      .set({
        status: 'pending',
        started_at: null,
        updated_at: now.toISOString(),
        node_id: null,
        node_incarnation: null,
        lease_expires_at: null,
      })
      .where('external_id', '=', externalId)
      .where('status', '=', 'running')
      .where('node_id', '=', worker.nodeId)
      .where('node_incarnation', '=', worker.incarnation)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async finish(
    worker: WorkerIdentity,
    externalId: string,
    outcome: JobOutcome,
    now: Date,
  ): Promise<boolean> {
    const at = now.toISOString();
    const result = await this.store
      .updateTable('sql_jobs')
      .set({
        status: outcome.status,
        error_message: outcome.error?.message ?? null,
        error_code: outcome.error?.code ?? null,
        metadata: outcome.metadata ? JSON.stringify(outcome.metadata) : null,
        finished_at: at,
        updated_at: at,
      })
      .where('external_id', '=', externalId)
      .where('status', '=', 'running')
      .where('node_id', '=', worker.nodeId)
      .where('node_incarnation', '=', worker.incarnation)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async cancel(accountId: string, externalId: string, now: Date): Promise<SqlJob | undefined> {
    const at = now.toISOString();
    const row = await this.store
      .updateTable('sql_jobs')
      .set({ status: 'cancelled', finished_at: at, updated_at: at })
      .where('account_id', '=', accountId)
      .where('external_id', '=', externalId)
      .where('status', 'in', ['pending', 'running'])
      .returningAll()
      .executeTakeFirst();
    return row && toJob(row);
  }

  async failAbandoned(worker: WorkerIdentity, error: JobError, now: Date): Promise<string[]> {
    const at = now.toISOString();
    const rows = await this.store
      .updateTable('sql_jobs')
      .set({
        status: 'failure',
        error_message: error.message,
        error_code: error.code,
        finished_at: at,
        updated_at: at,
      })
      .where('status', '=', 'running')
      .where((eb) =>
        eb.or([
          eb('lease_expires_at', '<', at),
          eb.and([
            eb('node_id', '=', worker.nodeId),
            eb('node_incarnation', '!=', worker.incarnation),
          ]),
        ]),
      )
      // This incarnation's own jobs are alive in memory; only the runner ends them.
      .where((eb) =>
        eb.or([
          eb('node_id', '!=', worker.nodeId),
          eb('node_incarnation', '!=', worker.incarnation),
        ]),
      )
      .returning('external_id')
      .execute();
    return rows.map((row) => row.external_id);
  }

  async deleteFinishedBefore(cutoff: Date): Promise<number> {
    const result = await this.store
      .deleteFrom('sql_jobs')
      .where('status', 'in', [...FINISHED_STATUSES])
      .where('finished_at', '<', cutoff.toISOString())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
