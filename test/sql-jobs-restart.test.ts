import { afterAll, describe, expect, it } from 'vitest';
import { fetchToken } from './support/api.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

const SERVER_OPTIONS = {
  loadDemoData: false,
  env: { GRATICULE_JOB_CONCURRENCY: '1' },
} as const;

let restarted: ServerProcess | undefined;

afterAll(async () => {
  await restarted?.stop();
});

function jobClient(server: ServerProcess, token: string) {
  const request = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.baseUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  return {
    request,
    create: async (query: string) =>
      (await request('POST', '/v3/sql/carto_dw/job', { query })).body,
    read: async (id: string) => (await request('GET', `/v3/sql/carto_dw/job/${id}`)).body,
    /** Polls for at most two minutes: the machine may be busy. */
    waitFor: async (id: string, isDone: (job: any) => boolean) => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const job = (await request('GET', `/v3/sql/carto_dw/job/${id}`)).body;
        if (isDone(job)) return job;
        if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.status}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

async function connect(server: ServerProcess) {
  return jobClient(server, await fetchToken(server.baseUrl, server.clientId, server.clientSecret));
}

/** Queues a long job and one behind it, and waits until the long one runs. */
async function queueTwoJobs(server: ServerProcess) {
  const client = await connect(server);
  const sleeping = await client.create('SELECT pg_sleep(60)');
  const queued = await client.create('CREATE TABLE restart_result AS SELECT 1 AS x');
  await client.waitFor(sleeping.externalId, (job) => job.status !== 'pending');
  expect((await client.read(sleeping.externalId)).status).toBe('running');
  expect((await client.read(queued.externalId)).status).toBe('pending');
  return { sleeping: sleeping.externalId as string, queued: queued.externalId as string };
}

describe('SQL jobs across a crash', () => {
  it('fails the job that was running and runs the queued one after a restart', async () => {
    const first = await startServerProcess({ ...SERVER_OPTIONS, keepDataDir: true });
    const jobs = await queueTwoJobs(first).catch(async (error: unknown) => {
      await first.stop();
      throw error;
    });

    await first.kill();
    restarted = await startServerProcess({ ...SERVER_OPTIONS, dataDir: first.dataDir });
    const after = await connect(restarted);

    expect(await after.read(jobs.sleeping)).toMatchObject({
      status: 'failure',
      error: {
        code: 'job_interrupted',
        message: expect.stringMatching(/^The server stopped while the job was running/),
      },
      finishedAt: expect.any(String),
    });
    const queued = await after.waitFor(jobs.queued, (job) =>
      ['success', 'failure', 'cancelled'].includes(job.status),
    );
    expect(queued).toMatchObject({ status: 'success' });
    const { body } = await after.request('POST', '/v3/sql/carto_dw/query', {
      q: 'SELECT x FROM restart_result',
    });
    expect(body.rows).toEqual([{ x: 1 }]);
  });
});
