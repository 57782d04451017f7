import { PGlite } from '@electric-sql/pglite';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConnectionRegistry, type Connection } from '../connections/connection-registry.js';
import { ApiError } from '../http/errors.js';
import type { Store } from '../store/store.js';
import { describeEachStore, type TestStore } from '../../test/support/metadata-store.js';
import { PgliteTestDriver } from '../test-support/pglite-test-driver.js';
import {
  WarehouseError,
  type WarehouseDriver,
  type WarehouseQuery,
  type WarehouseResult,
  type WarehouseRowStream,
} from '../warehouses/driver.js';
import { warehouseErrorFromPostgres } from '../warehouses/postgres-errors.js';
import type { SqlJob } from './job-queue.js';
import type { JobLogger } from './job-runner.js';
import { SqlJobService, jobQueueFor } from './sql-job-service.js';
import { StoreJobQueue } from './store-job-queue.js';

const ACCOUNT = 'ac_jobs';
const CALLER = { accountId: ACCOUNT, subject: 'client@clients' };
const NODE_ID = 'test-node';
const quietLogger: JobLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** The PGlite test driver, with PostgreSQL errors classified as a real driver does. */
class ClassifyingPgliteDriver extends PgliteTestDriver {
  override async query(query: WarehouseQuery): Promise<WarehouseResult> {
    try {
      return await super.query(query);
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      throw warehouseErrorFromPostgres({ code, message });
    }
  }
}

/**
 * Test double whose statements run until the test finishes them or their signal aborts, so
 * tests decide exactly when a job is running and when it ends.
 */
class ControlledTestDriver implements WarehouseDriver {
  readonly provider = 'postgres' as const;
  readonly capabilities = { nativeMvt: false, jsonTiles: true, cancellable: true };
  readonly started: { query: WarehouseQuery; finish: (error?: WarehouseError) => void }[] = [];

  query(query: WarehouseQuery): Promise<WarehouseResult> {
    return new Promise((resolve, reject) => {
      const finish = (error?: WarehouseError) =>
        error ? reject(error) : resolve({ fields: [], rows: [] });
      query.signal?.addEventListener('abort', () =>
        reject(new WarehouseError('cancelled', 'The statement was cancelled')),
      );
      this.started.push({ query, finish });
    });
  }

  /** Jobs read rows as a stream; this one yields the statement's (empty) result at its end. */
  async stream(query: WarehouseQuery): Promise<WarehouseRowStream> {
    const { fields, rows } = await this.query(query);
    async function* batches() {
      yield rows;
    }
    return { fields, rows: batches(), close: async () => {} };
  }

  test(): never {
    throw new Error('not used by job tests');
  }

  async close(): Promise<void> {}
}

function connectionOf(driver: WarehouseDriver, id = 'carto_dw'): Connection {
  return { id, name: 'carto_dw', provider: 'postgres', driver, cacheKey: id };
}

async function waitFor<T>(read: () => Promise<T>, isDone: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (isDone(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting; last ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let pglite: PGlite;
let opened: TestStore;
let store: Store;
const services: SqlJobService[] = [];

/** A service on the store's own job queue (pg-boss dispatch on PostgreSQL), queue started. */
async function startService(driver: WarehouseDriver, concurrency = 2, connectionId = 'carto_dw') {
  const connections = new ConnectionRegistry();
  connections.registerShared(connectionOf(driver, connectionId));
  const queue = jobQueueFor(store, quietLogger);
  await queue.start?.();
  const service = new SqlJobService({
    queue,
    connections,
    nodeId: NODE_ID,
    concurrency,
    jobTimeoutMs: 60_000,
    logger: quietLogger,
    timing: { pollIntervalMs: 50, heartbeatIntervalMs: 50, leaseMs: 5_000, stopGraceMs: 2_000 },
  });
  services.push(service);
  return service;
}

const readJob = (service: SqlJobService, job: SqlJob) =>
  service.get(ACCOUNT, 'carto_dw', job.externalId);

const waitForStatus = (service: SqlJobService, job: SqlJob, status: SqlJob['status']) =>
  waitFor(
    () => readJob(service, job),
    (latest) => latest.status === status,
  );

describeEachStore('SqlJobService', (open) => {
  beforeAll(async () => {
    pglite = await PGlite.create();
  });

  afterAll(async () => {
    await pglite.close();
  });

  beforeEach(async () => {
    opened = await open();
    store = opened.store;
    await store
      .insertInto('accounts')
      .values({ id: ACCOUNT, name: 'Jobs', created_at: new Date().toISOString() })
      .execute();
  });

  afterEach(async () => {
    for (const service of services.splice(0)) await service.stop();
    await opened.close();
  });

  describe('with a real warehouse', () => {
    it('runs a job to success with bound values and leaves its table behind', async () => {
      const service = await startService(new ClassifyingPgliteDriver(pglite));
      await service.start();

      const job = await service.create(CALLER, 'carto_dw', {
        query: 'CREATE TABLE job_result AS SELECT $1::int AS x;',
        queryParameters: [7],
      });
      expect(job).toMatchObject({
        status: 'pending',
        queryParameters: [7],
        connectionId: 'carto_dw',
      });
      const done = await waitForStatus(service, job, 'success');

      expect(done.metadata).toEqual({ rowCount: 0, durationMs: expect.any(Number) });
      expect(done.startedAt).not.toBeNull();
      expect(done.finishedAt).not.toBeNull();
      expect((await pglite.query('SELECT x FROM job_result')).rows).toEqual([{ x: 7 }]);
    });

    it('records the warehouse message when the SQL fails', async () => {
      const service = await startService(new ClassifyingPgliteDriver(pglite));
      await service.start();

      const job = await service.create(CALLER, 'carto_dw', {
        query: 'SELECT * FROM no_such_table',
        queryParameters: [],
      });
      const failed = await waitForStatus(service, job, 'failure');

      expect(failed.error).toEqual({
        message: 'relation "no_such_table" does not exist',
        code: 'sql_error',
      });
    });

    it('at start, fails jobs an earlier start left running and runs the pending ones', async () => {
      const queue = new StoreJobQueue(store);
      const earlier = await startService(new ControlledTestDriver());
      const interrupted = await earlier.create(CALLER, 'carto_dw', {
        query: 'SELECT pg_sleep(60)',
        queryParameters: [],
      });
      const queued = await earlier.create(CALLER, 'carto_dw', {
        query: 'CREATE TABLE after_restart AS SELECT 1 AS x',
        queryParameters: [],
      });
      // What a process killed while running the first job leaves behind.
      await queue.claimNext({ nodeId: NODE_ID, incarnation: 'killed' }, 3_600_000, new Date());

      const restarted = await startService(new ClassifyingPgliteDriver(pglite));
      await restarted.start();

      expect(await readJob(restarted, interrupted)).toMatchObject({
        status: 'failure',
        error: { code: 'job_interrupted', message: expect.stringMatching(/server stopped/) },
      });
      await waitForStatus(restarted, queued, 'success');
      expect((await pglite.query('SELECT x FROM after_restart')).rows).toEqual([{ x: 1 }]);
    });
  });

  describe('running and cancelling', () => {
    it('runs no more jobs at once than its concurrency', async () => {
      const driver = new ControlledTestDriver();
      const service = await startService(driver, 1);
      await service.start();
      const input = { query: 'SELECT 1', queryParameters: [] };
      const first = await service.create(CALLER, 'carto_dw', input);
      const second = await service.create(CALLER, 'carto_dw', input);

      await waitForStatus(service, first, 'running');
      expect((await readJob(service, second)).status).toBe('pending');
      driver.started[0]!.finish();
      await waitForStatus(service, first, 'success');
      await waitForStatus(service, second, 'running');
      driver.started[1]!.finish();
      await waitForStatus(service, second, 'success');
    });

    it('cancels a pending job at once', async () => {
      const service = await startService(new ControlledTestDriver(), 1);
      const job = await service.create(CALLER, 'carto_dw', {
        query: 'SELECT 1',
        queryParameters: [],
      });

      const cancelled = await service.cancel(ACCOUNT, 'carto_dw', job.externalId);

      expect(cancelled).toMatchObject({ status: 'cancelled', finishedAt: expect.any(String) });
    });

    it('cancels a running job by aborting its statement, and frees its slot', async () => {
      const driver = new ControlledTestDriver();
      const service = await startService(driver, 1);
      await service.start();
      const input = { query: 'SELECT pg_sleep(30)', queryParameters: [] };
      const running = await service.create(CALLER, 'carto_dw', input);
      const next = await service.create(CALLER, 'carto_dw', input);
      await waitForStatus(service, running, 'running');

      const cancelled = await service.cancel(ACCOUNT, 'carto_dw', running.externalId);

      expect(cancelled.status).toBe('cancelled');
      expect(driver.started[0]!.query.signal?.aborted).toBe(true);
      expect((await readJob(service, running)).status).toBe('cancelled');
      await waitForStatus(service, next, 'running');
    });

    it('stops a job that was cancelled through another node at the next heartbeat', async () => {
      const driver = new ControlledTestDriver();
      const service = await startService(driver, 1);
      await service.start();
      const job = await service.create(CALLER, 'carto_dw', {
        query: 'SELECT 1',
        queryParameters: [],
      });
      await waitForStatus(service, job, 'running');

      await new StoreJobQueue(store).cancel(ACCOUNT, job.externalId, new Date());

      await waitFor(
        async () => driver.started[0]!.query.signal?.aborted,
        (aborted) => aborted === true,
      );
    });

    it('refuses to cancel a finished job with 400', async () => {
      const driver = new ControlledTestDriver();
      const service = await startService(driver);
      await service.start();
      const job = await service.create(CALLER, 'carto_dw', {
        query: 'SELECT 1',
        queryParameters: [],
      });
      await waitForStatus(service, job, 'running');
      driver.started[0]!.finish();
      await waitForStatus(service, job, 'success');

      const refusal = await service.cancel(ACCOUNT, 'carto_dw', job.externalId).catch((e) => e);

      expect(refusal).toBeInstanceOf(ApiError);
      expect(refusal).toMatchObject({ status: 400, code: 'job_already_finished' });
    });

    it('records a statement timeout with the SQL API’s message and code', async () => {
      const driver = new ControlledTestDriver();
      const service = await startService(driver);
      await service.start();
      const job = await service.create(CALLER, 'carto_dw', {
        query: 'SELECT 1',
        queryParameters: [],
      });
      await waitForStatus(service, job, 'running');

      driver.started[0]!.finish(new WarehouseError('timeout', 'stopped'));

      expect((await waitForStatus(service, job, 'failure')).error).toEqual({
        message: 'Query timed out after 60000 ms',
        code: 'query_timeout',
      });
    });

    it('never runs a job on a connection that was replaced under the same name', async () => {
      const service = await startService(new ControlledTestDriver());
      const job = await service.create(CALLER, 'carto_dw', {
        query: 'SELECT 1',
        queryParameters: [],
      });
      await service.stop();

      const replaced = await startService(new ControlledTestDriver(), 1, 'another-id');
      await replaced.start();

      expect((await waitForStatus(replaced, job, 'failure')).error?.code).toBe(
        'connection_not_found',
      );
    });

    it('on stop, records running jobs as interrupted and keeps pending ones queued', async () => {
      const driver = new ControlledTestDriver();
      const service = await startService(driver, 1);
      await service.start();
      const input = { query: 'SELECT 1', queryParameters: [] };
      const running = await service.create(CALLER, 'carto_dw', input);
      const pending = await service.create(CALLER, 'carto_dw', input);
      await waitForStatus(service, running, 'running');

      await service.stop();

      expect(driver.started[0]!.query.signal?.aborted).toBe(true);
      expect(await readJob(service, running)).toMatchObject({
        status: 'failure',
        error: { code: 'job_interrupted' },
      });
      expect((await readJob(service, pending)).status).toBe('pending');
    });
  });
});
