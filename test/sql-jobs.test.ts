import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
let token = '';

beforeAll(async () => {
  token = await fetchToken(baseUrl, clientId, clientSecret);
});

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function createJob(query: string) {
  const { status, body } = await call('POST', '/v3/sql/carto_dw/job', { query });
  expect(status).toBe(200);
  return body as { externalId: string; status: string };
}

/** Polls the job until `isDone` holds, for at most two minutes (the machine may be busy). */
async function pollJob(externalId: string, isDone: (job: any) => boolean) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { status, body } = await call('GET', `/v3/sql/carto_dw/job/${externalId}`);
    expect(status).toBe(200);
    if (isDone(body)) return body;
    if (Date.now() > deadline) throw new Error(`job ${externalId} is still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const isFinished = (job: any) => ['success', 'failure', 'cancelled'].includes(job.status);

/** Runs `q` through the synchronous SQL API, retrying while the warehouse is busy. */
async function queryWhenServed(q: string) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { status, body } = await call('POST', '/v3/sql/carto_dw/query', { q });
    const timedOut = (body as { code?: string } | null)?.code === 'query_timeout';
    if (status !== 503 && !timedOut) return { status, body };
    if (Date.now() > deadline) throw new Error(`the warehouse still answers ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('SQL API async jobs on the embedded warehouse', () => {
  it('creates a table with a job, whose rows the SQL API then reads', async () => {
    const table = `public.job_e2e_${randomBytes(4).toString('hex')}`;
    const created = await createJob(
      `CREATE TABLE ${table} AS SELECT g AS n FROM generate_series(1, 5) AS g`,
    );
    expect(created.status).toBe('pending');

    const finished = await pollJob(created.externalId, isFinished);
    expect(finished).toMatchObject({
      status: 'success',
      connectionName: 'carto_dw',
      connectionProvider: 'postgres',
      jobMetadata: { rowCount: 0, durationMs: expect.any(Number) },
    });
    const { status, body } = await queryWhenServed(`SELECT sum(n)::int AS total FROM ${table}`);
    expect(status).toBe(200);
    expect(body.rows).toEqual([{ total: 15 }]);

    const dropped = await createJob(`DROP TABLE ${table}`);
    expect((await pollJob(dropped.externalId, isFinished)).status).toBe('success');
  });

  it('ends a job whose SQL fails as failure, with the warehouse message', async () => {
    const created = await createJob('SELECT * FROM public.no_such_table_for_jobs');

    const finished = await pollJob(created.externalId, isFinished);

    expect(finished).toMatchObject({
      status: 'failure',
      error: {
        message: 'relation "public.no_such_table_for_jobs" does not exist',
        code: 'sql_error',
      },
    });
  });

  it('cancels a running statement; the warehouse then serves the next query', async () => {
    const created = await createJob('SELECT pg_sleep(30)');
    await pollJob(created.externalId, (job) => job.status === 'running' || isFinished(job));

    const { status, body } = await call('DELETE', `/v3/sql/carto_dw/job/${created.externalId}`);

    expect(status).toBe(200);
    expect(body).toMatchObject({ externalId: created.externalId, status: 'cancelled' });
    expect((await pollJob(created.externalId, isFinished)).status).toBe('cancelled');
    // The embedded warehouse cannot interrupt a statement: the sleep ends on its own, then
    // the queue moves on.
    const next = await queryWhenServed('SELECT 1 AS ok');
    expect(next).toEqual({ status: 200, body: expect.objectContaining({ rows: [{ ok: 1 }] }) });
    const again = await call('DELETE', `/v3/sql/carto_dw/job/${created.externalId}`);
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('job_already_finished');
  });

  it('lists the caller’s jobs newest first', async () => {
    const first = await createJob('SELECT 1');
    const second = await createJob('SELECT 2');

    const { status, body } = await call('GET', '/v3/sql/jobs?pageSize=2');

    expect(status).toBe(200);
    expect(body.data.map((job: any) => job.externalId)).toEqual([
      second.externalId,
      first.externalId,
    ]);
    expect(body.meta).toEqual({ page: 1, pageSize: 2, total: expect.any(Number) });
    expect(body.meta.total).toBeGreaterThanOrEqual(2);
    await pollJob(second.externalId, isFinished);
  });

  it('answers 404 for an unknown job and for an unknown connection', async () => {
    const job = await call('GET', '/v3/sql/carto_dw/job/job_00000000000000000000000000000000');
    const connection = await call('POST', '/v3/sql/no_such_connection/job', { query: 'SELECT 1' });

    expect(job.status).toBe(404);
    expect(job.body.code).toBe('job_not_found');
    expect(connection.status).toBe(404);
    expect(connection.body.code).toBe('connection_not_found');
  });
});
