import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeWithPostgres, runAsSuperuser } from '../../test/support/postgres.js';
import {
  describeEachStore,
  openTestStore,
  type TestStore,
} from '../../test/support/metadata-store.js';
import { openStore, type Store } from '../store/store.js';
import type { JobQueue, NewSqlJob, WorkerIdentity } from './job-queue.js';
import { PG_BOSS_SCHEMA, PgBossJobQueue, SQL_JOB_QUEUE } from './pg-boss-job-queue.js';
import { StoreJobQueue } from './store-job-queue.js';

const NODE_A: WorkerIdentity = { nodeId: 'node-a', incarnation: 'first' };
const NODE_A_RESTARTED: WorkerIdentity = { nodeId: 'node-a', incarnation: 'second' };
const NODE_B: WorkerIdentity = { nodeId: 'node-b', incarnation: 'first' };
const LEASE_MS = 60_000;
const INTERRUPTED = { message: 'stopped', code: 'job_interrupted' };
const quietLogger = { error() {} };

let jobNumber = 0;

async function insertAccount(store: Store, id: string): Promise<void> {
  await store
    .insertInto('accounts')
    .values({ id, name: id, created_at: new Date().toISOString() })
    .execute();
}

function newJob(accountId = 'ac_one', query = 'SELECT 1'): NewSqlJob {
  jobNumber += 1;
  return {
    externalId: `job_${jobNumber}`,
    accountId,
    createdBy: 'client@clients',
    connectionId: 'carto_dw',
    connectionName: 'carto_dw',
    connectionProvider: 'postgres',
    query,
    queryParameters: null,
  };
}

const at = (iso: string) => new Date(iso);

/**
 * The guarantees of the `JobQueue` interface, for one implementation on one store. Every test
 * gets a fresh store (a new SQLite file, or a new PostgreSQL database).
 */
function describeJobQueue(
  name: string,
  open: () => Promise<TestStore>,
  makeQueue: (store: Store) => JobQueue,
): void {
  describe(name, () => {
    let opened: TestStore;
    let queue: JobQueue;

    beforeEach(async () => {
      opened = await open();
      queue = makeQueue(opened.store);
      await queue.start?.();
      await insertAccount(opened.store, 'ac_one');
      await insertAccount(opened.store, 'ac_two');
    });

    afterEach(async () => {
      await queue.stop?.();
      await opened.close();
    });

    it('stores a new job as pending with its bind values', async () => {
      const job = await queue.enqueue(
        { ...newJob(), queryParameters: ['ES', 3] },
        at('2026-01-01T00:00:00.000Z'),
      );
      expect(job).toMatchObject({
        status: 'pending',
        queryParameters: ['ES', 3],
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
        startedAt: null,
        lease: null,
        error: null,
      });
      expect(await queue.find('ac_one', job.externalId)).toEqual(job);
    });

    it('claims pending jobs oldest first, each exactly once', async () => {
      const now = at('2026-01-01T00:00:00.000Z');
      const first = await queue.enqueue(newJob(), now);
      const second = await queue.enqueue(newJob(), now);

      const workers = [NODE_A, NODE_B, NODE_B];
      const claims = await Promise.all(
        workers.map((worker) => queue.claimNext(worker, LEASE_MS, now)),
      );
      const claimed = claims.filter((job) => job !== undefined);
      expect(claimed.map((job) => job.externalId).sort()).toEqual(
        [first.externalId, second.externalId].sort(),
      );
      const firstClaimer = workers[claims.findIndex((job) => job?.externalId === first.externalId)];
      const firstClaim = await queue.find('ac_one', first.externalId);
      expect(firstClaim).toMatchObject({
        status: 'running',
        startedAt: now.toISOString(),
        lease: { ...firstClaimer, expiresAt: '2026-01-01T00:01:00.000Z' },
      });

      const third = await queue.enqueue(newJob(), now);
      const fourth = await queue.enqueue(newJob(), now);
      expect((await queue.claimNext(NODE_A, LEASE_MS, now))?.externalId).toBe(third.externalId);
      expect((await queue.claimNext(NODE_A, LEASE_MS, now))?.externalId).toBe(fourth.externalId);
    });

    it('renews only the leases a worker still holds', async () => {
      const now = at('2026-01-01T00:00:00.000Z');
      const kept = await queue.enqueue(newJob(), now);
      const cancelled = await queue.enqueue(newJob(), now);
      await queue.claimNext(NODE_A, LEASE_MS, now);
      await queue.claimNext(NODE_A, LEASE_MS, now);
      await queue.cancel('ac_one', cancelled.externalId, now);

      const later = at('2026-01-01T00:00:30.000Z');
      const held = await queue.renewLeases(
        NODE_A,
        [kept.externalId, cancelled.externalId],
        LEASE_MS,
        later,
      );
      expect(held).toEqual([kept.externalId]);
      expect((await queue.find('ac_one', kept.externalId))?.lease?.expiresAt).toBe(
        '2026-01-01T00:01:30.000Z',
      );
      expect(await queue.renewLeases(NODE_B, [kept.externalId], LEASE_MS, later)).toEqual([]);
    });

    it('records an outcome only for the worker holding the job, once', async () => {
      const now = at('2026-01-01T00:00:00.000Z');
      const job = await queue.enqueue(newJob(), now);
      await queue.claimNext(NODE_A, LEASE_MS, now);

      const success = { status: 'success', metadata: { rowCount: 0, durationMs: 5 } } as const;
      expect(await queue.finish(NODE_B, job.externalId, success, now)).toBe(false);
      expect(await queue.finish(NODE_A, job.externalId, success, now)).toBe(true);
      expect(await queue.finish(NODE_A, job.externalId, { status: 'cancelled' }, now)).toBe(false);
      expect(await queue.find('ac_one', job.externalId)).toMatchObject({
        status: 'success',
        metadata: { rowCount: 0, durationMs: 5 },
        finishedAt: now.toISOString(),
      });
    });

    it('puts a released job back at the head of the queue', async () => {
      const now = at('2026-01-01T00:00:00.000Z');
      const first = await queue.enqueue(newJob(), now);
      await queue.enqueue(newJob(), now);
      await queue.claimNext(NODE_A, LEASE_MS, now);
      await queue.release(NODE_A, first.externalId, now);

      expect(await queue.find('ac_one', first.externalId)).toMatchObject({
        status: 'pending',
        lease: null,
        startedAt: null,
      });
      expect((await queue.claimNext(NODE_A, LEASE_MS, now))?.externalId).toBe(first.externalId);
    });

    it('cancels pending and running jobs but not finished ones', async () => {
      const now = at('2026-01-01T00:00:00.000Z');
      const running = await queue.enqueue(newJob(), now);
      const pending = await queue.enqueue(newJob(), now);
      await queue.claimNext(NODE_A, LEASE_MS, now);

      expect((await queue.cancel('ac_one', pending.externalId, now))?.status).toBe('cancelled');
      expect((await queue.cancel('ac_one', running.externalId, now))?.status).toBe('cancelled');
      expect(await queue.cancel('ac_one', running.externalId, now)).toBeUndefined();
      expect(await queue.claimNext(NODE_A, LEASE_MS, now)).toBeUndefined();
    });

    it('keeps jobs within their account', async () => {
      const now = at('2026-01-01T00:00:00.000Z');
      const job = await queue.enqueue(newJob('ac_one'), now);

      expect(await queue.find('ac_two', job.externalId)).toBeUndefined();
      expect(await queue.cancel('ac_two', job.externalId, now)).toBeUndefined();
      expect(await queue.list('ac_two', { offset: 0, limit: 10 })).toEqual({ jobs: [], total: 0 });
    });

    it('fails jobs of an earlier incarnation and expired leases, never its own', async () => {
      const now = at('2026-01-01T00:00:00.000Z');
      const fromEarlierStart = await queue.enqueue(newJob(), now);
      const fromOtherNode = await queue.enqueue(newJob(), now);
      const own = await queue.enqueue(newJob(), now);
      const pending = await queue.enqueue(newJob(), now);
      await queue.claimNext(NODE_A, LEASE_MS, now);
      await queue.claimNext(NODE_B, LEASE_MS, now);
      await queue.claimNext(NODE_A_RESTARTED, LEASE_MS, now);

      const soon = at('2026-01-01T00:00:10.000Z');
      expect(await queue.failAbandoned(NODE_A_RESTARTED, INTERRUPTED, soon)).toEqual([
        fromEarlierStart.externalId,
      ]);
      const afterLease = at('2026-01-01T00:02:00.000Z');
      expect(await queue.failAbandoned(NODE_A_RESTARTED, INTERRUPTED, afterLease)).toEqual([
        fromOtherNode.externalId,
      ]);

      expect(await queue.find('ac_one', fromEarlierStart.externalId)).toMatchObject({
        status: 'failure',
        error: INTERRUPTED,
        finishedAt: soon.toISOString(),
      });
      expect((await queue.find('ac_one', own.externalId))?.status).toBe('running');
      expect((await queue.find('ac_one', pending.externalId))?.status).toBe('pending');
    });

    it('lists an account’s jobs newest first, by page and status', async () => {
      const now = at('2026-01-01T00:00:00.000Z');
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) ids.push((await queue.enqueue(newJob(), now)).externalId);
      await queue.enqueue(newJob('ac_two'), now);
      await queue.cancel('ac_one', ids[1]!, now);

      const secondPage = await queue.list('ac_one', { offset: 2, limit: 2 });
      expect(secondPage.total).toBe(5);
      expect(secondPage.jobs.map((job) => job.externalId)).toEqual([ids[2], ids[1]]);
      const cancelled = await queue.list('ac_one', { status: 'cancelled', offset: 0, limit: 10 });
      expect(cancelled).toMatchObject({ total: 1, jobs: [{ externalId: ids[1] }] });
    });

    it('deletes finished jobs older than the cutoff and keeps the rest', async () => {
      const old = at('2026-01-01T00:00:00.000Z');
      const oldFinished = await queue.enqueue(newJob(), old);
      const oldPending = await queue.enqueue(newJob(), old);
      await queue.cancel('ac_one', oldFinished.externalId, old);
      const recent = await queue.enqueue(newJob(), at('2026-03-01T00:00:00.000Z'));
      await queue.cancel('ac_one', recent.externalId, at('2026-03-01T00:00:00.000Z'));

      expect(await queue.deleteFinishedBefore(at('2026-02-01T00:00:00.000Z'))).toBe(1);
      expect(await queue.find('ac_one', oldFinished.externalId)).toBeUndefined();
      expect(await queue.find('ac_one', oldPending.externalId)).toBeDefined();
      expect(await queue.find('ac_one', recent.externalId)).toBeDefined();
    });
  });
}

describeEachStore('StoreJobQueue', (open) =>
  describeJobQueue('StoreJobQueue', open, (store) => new StoreJobQueue(store)),
);

describeWithPostgres('PgBossJobQueue', (info) => {
  describeJobQueue(
    'PgBossJobQueue',
    () => openTestStore('postgres', info),
    (store) => new PgBossJobQueue(store, quietLogger),
  );

  describe('dispatch through pg-boss', () => {
    let base: TestStore | undefined;
    const nodeStores: Store[] = [];
    const nodes: PgBossJobQueue[] = [];

    /** A node: its own pool on the shared database, and its own pg-boss. */
    async function startNode(): Promise<PgBossJobQueue> {
      const store = await openStore(base!.location);
      nodeStores.push(store);
      const queue = new PgBossJobQueue(store, quietLogger);
      await queue.start();
      nodes.push(queue);
      return queue;
    }

    /** How many dispatch messages are in each state, as pg-boss records them. */
    const dispatchStates = () =>
      runAsSuperuser<{ state: string; count: number }>(
        { ...info, database: base!.databaseName! },
        `SELECT state::text, count(*)::int AS count FROM ${PG_BOSS_SCHEMA}.job
          WHERE name = $1 GROUP BY state ORDER BY state`,
        [SQL_JOB_QUEUE],
      );

    beforeEach(async () => {
      base = await openTestStore('postgres', info);
      await insertAccount(base.store, 'ac_one');
    });

    afterEach(async () => {
      for (const queue of nodes.splice(0)) await queue.stop();
      for (const store of nodeStores.splice(0)) await store.destroy();
      await base?.close();
    });

    it('hands each job to exactly one of several nodes', async () => {
      const started = await Promise.all([startNode(), startNode(), startNode()]);
      const now = at('2026-01-01T00:00:00.000Z');
      const created: string[] = [];
      for (let i = 0; i < 12; i += 1) {
        created.push((await started[i % 3]!.enqueue(newJob(), now)).externalId);
      }

      const claimAll = async (queue: PgBossJobQueue, worker: WorkerIdentity) => {
        const claimed: string[] = [];
        for (;;) {
          const job = await queue.claimNext(worker, LEASE_MS, now);
          if (!job) return claimed;
          claimed.push(job.externalId);
        }
      };
      const claims = await Promise.all(
        started.map((queue, i) => claimAll(queue, { nodeId: `node-${i}`, incarnation: 'one' })),
      );

      expect(claims.flat().sort()).toEqual([...created].sort());
      expect(await dispatchStates()).toEqual([{ state: 'completed', count: 12 }]);
    });

    it('never runs a job cancelled while pending, and completes its dispatch unrun', async () => {
      const node = await startNode();
      const now = at('2026-01-01T00:00:00.000Z');
      const cancelled = await node.enqueue(newJob(), now);
      const kept = await node.enqueue(newJob(), now);
      await node.cancel('ac_one', cancelled.externalId, now);

      expect((await node.claimNext(NODE_A, LEASE_MS, now))?.externalId).toBe(kept.externalId);
      expect(await node.claimNext(NODE_A, LEASE_MS, now)).toBeUndefined();
      expect((await node.find('ac_one', cancelled.externalId))?.status).toBe('cancelled');
      expect(await dispatchStates()).toEqual([{ state: 'completed', count: 2 }]);
    });

    it('creates its schema once when several nodes start on an empty database', async () => {
      await Promise.all([startNode(), startNode(), startNode()]);

      const [queue] = await runAsSuperuser<{ count: number }>(
        { ...info, database: base!.databaseName! },
        `SELECT count(*)::int AS count FROM ${PG_BOSS_SCHEMA}.queue WHERE name = $1`,
        [SQL_JOB_QUEUE],
      );
      expect(queue).toEqual({ count: 1 });
    });
  });
});
