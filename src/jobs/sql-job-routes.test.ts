import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrap } from '../accounts/bootstrap.js';
import { ApplicationStore } from '../apps/application-store.js';
import { loadSigningKeys } from '../auth/signing-keys.js';
import { TokenService } from '../auth/token-service.js';
import { loadConfig } from '../config/config.js';
import { ConnectionRegistry } from '../connections/connection-registry.js';
import { buildApp } from '../http/app.js';
import { createLogger } from '../http/logger.js';
import { openStore, type Store } from '../store/store.js';
import { PgliteTestDriver } from '../test-support/pglite-test-driver.js';
import { SqlJobService } from './sql-job-service.js';
import { StoreJobQueue } from './store-job-queue.js';

const ISSUER = 'http://127.0.0.1:9/';
const OWNER = { clientId: 'jobs-owner', clientSecret: 'jobs-owner-secret-0123456789' };
const OTHER = { clientId: 'jobs-other', clientSecret: 'jobs-other-secret-0123456789' };

let dataDir: string;
let store: Store;
let pglite: PGlite;
let jobs: SqlJobService;
let app: FastifyInstance;
let ownerToken = '';
let otherToken = '';

/** A second account with its own Machine to Machine application, straight in the store. */
async function createOtherAccount(): Promise<void> {
  const now = new Date().toISOString();
  await store
    .insertInto('accounts')
    .values({ id: 'ac_other', name: 'Other', created_at: now })
    .execute();
  await store
    .insertInto('users')
    .values({
      id: 'us_other',
      account_id: 'ac_other',
      email: 'other@example.test',
      name: 'Other',
      role: 'admin',
      created_at: now,
    })
    .execute();
  await new ApplicationStore(store).create({
    ...OTHER,
    accountId: 'ac_other',
    ownerUserId: 'us_other',
    name: 'Other application',
    type: 'machine_to_machine',
    tokenEndpointAuthMethod: 'client_secret_post',
  });
}

async function fetchToken(client: { clientId: string; clientSecret: string }): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
    },
  });
  expect(response.statusCode).toBe(200);
  return (response.json() as { access_token: string }).access_token;
}

async function call(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, token = '') {
  const response = await app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token || ownerToken}` },
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: response.statusCode, body: response.json() as any, headers: response.headers };
}

const createJob = (body: unknown, token = '') => call('POST', '/v3/sql/carto_dw/job', body, token);

async function waitForFinished(externalId: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await call('GET', `/v3/sql/carto_dw/job/${externalId}`);
    if (['success', 'failure', 'cancelled'].includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`job still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-job-routes-'));
  const config = loadConfig({ GRATICULE_DATA_DIR: dataDir, GRATICULE_LOG_LEVEL: 'silent' });
  store = await openStore(dataDir);
  pglite = await PGlite.create();
  const connections = new ConnectionRegistry();
  connections.registerShared({
    id: 'carto_dw',
    name: 'carto_dw',
    provider: 'postgres',
    driver: new PgliteTestDriver(pglite),
    cacheKey: 'carto_dw',
  });
  const logger = createLogger('silent');
  jobs = new SqlJobService({
    queue: new StoreJobQueue(store),
    connections,
    nodeId: 'routes-test',
    concurrency: 2,
    jobTimeoutMs: 60_000,
    logger,
    timing: { pollIntervalMs: 50 },
  });
  await jobs.start();
  const keys = await loadSigningKeys(store);
  app = await buildApp({
    config,
    tokens: new TokenService(keys, () => ISSUER),
    store,
    signingKeys: () => keys,
    cookieKeys: ['routes-test-cookie-key'],
    applications: new ApplicationStore(store),
    connections,
    jobs,
    issuer: () => ISSUER,
    isReady: () => true,
    logger,
  });
  await ensureBootstrap(store, OWNER);
  await createOtherAccount();
  ownerToken = await fetchToken(OWNER);
  otherToken = await fetchToken(OTHER);
});

afterAll(async () => {
  await app.close();
  await jobs.stop();
  await pglite.close();
  await store.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('POST /v3/sql/{connection}/job', () => {
  it('answers 200 with the pending job, which then runs to success', async () => {
    const { status, body, headers } = await createJob({
      query: 'CREATE TABLE route_result AS SELECT $1::text AS name',
      queryParameters: ['Madrid'],
    });

    expect(status).toBe(200);
    expect(headers['cache-control']).toBe('no-store');
    expect(body).toEqual({
      externalId: expect.stringMatching(/^job_[0-9a-f]{32}$/),
      status: 'pending',
      query: 'CREATE TABLE route_result AS SELECT $1::text AS name',
      queryParameters: ['Madrid'],
      connectionId: 'carto_dw',
      connectionName: 'carto_dw',
      connectionProvider: 'postgres',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updatedAt: body.createdAt,
      jobMetadata: {},
    });
    const finished = await waitForFinished(body.externalId);
    expect(finished).toMatchObject({
      status: 'success',
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      jobMetadata: { rowCount: 0, durationMs: expect.any(Number) },
    });
    expect((await pglite.query('SELECT name FROM route_result')).rows).toEqual([
      { name: 'Madrid' },
    ]);
  });

  it('accepts q as an alias of query, in a form body too', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v3/sql/carto_dw/job',
      headers: {
        authorization: `Bearer ${ownerToken}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: 'q=SELECT+1',
    });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'pending', query: 'SELECT 1' });
  });

  it.each([
    ['a missing query', {}, 'missing_parameter', "Missing required parameter 'query'"],
    ['an empty query', { query: '' }, 'missing_parameter', "Missing required parameter 'query'"],
    [
      'a query with no statement',
      { query: ' ; -- nothing' },
      'invalid_parameter',
      "Invalid parameter 'query': the query is empty",
    ],
    [
      'two statements',
      { query: 'SELECT 1; SELECT 2' },
      'invalid_parameter',
      "Invalid parameter 'query': send one statement per job",
    ],
    [
      'queryParameters that are not JSON',
      { query: 'SELECT $1', queryParameters: '[1,' },
      'invalid_parameter',
      "Invalid parameter 'queryParameters': expected JSON",
    ],
    [
      'queryParameters that are not an array',
      { query: 'SELECT $1', queryParameters: { a: 1 } },
      'invalid_parameter',
      expect.stringMatching(/^Invalid parameter 'queryParameters': .*JSON array$/),
    ],
  ])('refuses %s with 400', async (_name, body, code, message) => {
    const { status, body: error } = await createJob(body);

    expect(status).toBe(400);
    expect(error).toEqual({ error: message, status: 400, code });
  });

  it('answers 404 for an unknown connection', async () => {
    const { status, body } = await call('POST', '/v3/sql/nowhere/job', { query: 'SELECT 1' });

    expect(status).toBe(404);
    expect(body).toEqual({
      error: "Connection 'nowhere' not found",
      status: 404,
      code: 'connection_not_found',
    });
  });

  it('answers 401 without a token', async () => {
    const response = await app.inject({ method: 'POST', url: '/v3/sql/carto_dw/job' });

    expect(response.statusCode).toBe(401);
  });
});

describe('GET and DELETE /v3/sql/{connection}/job/{jobId}', () => {
  it('answers 404 for an unknown job id', async () => {
    const { status, body } = await call('GET', '/v3/sql/carto_dw/job/job_0123');

    expect(status).toBe(404);
    expect(body).toEqual({ error: "Job 'job_0123' not found", status: 404, code: 'job_not_found' });
  });

  it('answers 404, never 403, for another account’s job', async () => {
    const { body: job } = await createJob({ query: 'SELECT 1' });

    const read = await call('GET', `/v3/sql/carto_dw/job/${job.externalId}`, undefined, otherToken);
    const cancel = await call(
      'DELETE',
      `/v3/sql/carto_dw/job/${job.externalId}`,
      undefined,
      otherToken,
    );

    expect(read.status).toBe(404);
    expect(read.body.code).toBe('job_not_found');
    expect(cancel.status).toBe(404);
    expect((await call('GET', `/v3/sql/carto_dw/job/${job.externalId}`)).status).toBe(200);
  });

  it('answers 404 when the path names another connection than the job’s', async () => {
    const { body: job } = await createJob({ query: 'SELECT 1' });

    const { status } = await call('GET', `/v3/sql/other_dw/job/${job.externalId}`);

    expect(status).toBe(404);
  });

  it('refuses to cancel a finished job with 400', async () => {
    const { body: job } = await createJob({ query: 'SELECT 1' });
    await waitForFinished(job.externalId);

    const { status, body } = await call('DELETE', `/v3/sql/carto_dw/job/${job.externalId}`);

    expect(status).toBe(400);
    expect(body).toEqual({
      error: `Job '${job.externalId}' has already finished (success)`,
      status: 400,
      code: 'job_already_finished',
    });
  });
});

describe('GET /v3/sql/jobs', () => {
  it('lists the caller’s jobs newest first, with paging and a status filter', async () => {
    const { body: older } = await createJob({ query: 'SELECT 1' });
    const { body: newer } = await createJob({ query: 'SELECT 2' });
    await waitForFinished(newer.externalId);

    const { status, body } = await call('GET', '/v3/sql/jobs?pageSize=2');
    expect(status).toBe(200);
    expect(body.meta).toEqual({ page: 1, pageSize: 2, total: expect.any(Number) });
    expect(body.data.map((job: any) => job.externalId)).toEqual([
      newer.externalId,
      older.externalId,
    ]);
    const failures = await call('GET', '/v3/sql/jobs?status=failure&page=1');
    expect(failures.body).toEqual({ data: [], meta: { page: 1, pageSize: 50, total: 0 } });
  });

  it('shows another account none of them', async () => {
    const { body } = await call('GET', '/v3/sql/jobs', undefined, otherToken);

    expect(body).toEqual({ data: [], meta: { page: 1, pageSize: 50, total: 0 } });
  });

  it.each([
    ['status=done', 'status'],
    ['pageSize=101', 'pageSize'],
    ['page=0', 'page'],
  ])('refuses %s with 400', async (query, name) => {
    const { status, body } = await call('GET', `/v3/sql/jobs?${query}`);

    expect(status).toBe(400);
    expect(body.error).toMatch(new RegExp(`^Invalid parameter '${name}'`));
  });
});
