/**
 * Two real server processes sharing one PostgreSQL metadata store, as nodes behind a load
 * balancer: what one node creates or changes, the other sees and enforces.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nodeIdFor } from '../src/jobs/sql-job-service.js';
import { fetchToken } from './support/api.js';
import { runCli } from './support/cli.js';
import {
  createScratchDatabase,
  describeWithPostgres,
  pollUntil,
  runAsSuperuser,
  type ScratchDatabase,
} from './support/postgres.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

const ENCRYPTION_KEY = 'Zk3o0t0m8yqv4b1Xx9cJc2Qe5s7uW3hL6nP1rT8vB0c=';
/** The address a load balancer would give both nodes: issuer of every token. */
const PUBLIC_URL = 'http://graticule-cluster.test';
/** A dead node's running job is reported interrupted after this lease (and a heartbeat). */
const JOB_LEASE_SECONDS = 4;
/** How long a node trusts an API access token's record: the documented revocation delay. */
const API_TOKEN_CACHE_TTL_MS = 2_000;

interface Reply {
  status: number;
  body: any;
  text: string;
}

async function call(
  node: ServerProcess,
  token: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<Reply> {
  const response = await fetch(`${node.baseUrl}${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      // The command-line tests block this process for seconds; a kept-alive connection the
      // server closed meanwhile would be reused before its close is noticed.
      Connection: 'close',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((error: unknown) => {
    throw new Error(`${method} ${node.baseUrl}${route} failed`, { cause: error });
  });
  const text = await response.text();
  return { status: response.status, text, body: text ? JSON.parse(text) : null };
}

async function tokenStatus(node: ServerProcess, clientId: string, secret: string) {
  const response = await fetch(`${node.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Connection: 'close' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: secret,
      audience: 'carto-cloud-native-api',
    }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** The bootstrap credentials a node printed on its first start, if it printed them. */
function printedCredentials(node: ServerProcess): { clientId: string; secret: string } | null {
  const match = /client id:\s+(\S+)\n\s+client secret:\s+(\S+)/.exec(node.output());
  return match ? { clientId: match[1]!, secret: match[2]! } : null;
}

describeWithPostgres('two nodes on one PostgreSQL metadata store', (pg) => {
  let metadata: ScratchDatabase;
  const nodes: ServerProcess[] = [];
  let nodeA: ServerProcess;
  let nodeB: ServerProcess;
  let bootstrap: { clientId: string; secret: string };
  let tokenA = '';
  let tokenB = '';

  const clusterEnv = () => ({
    GRATICULE_METADATA_URL: metadata.url,
    GRATICULE_ENCRYPTION_KEY: ENCRYPTION_KEY,
  });
  const startNode = () =>
    startServerProcess({
      loadDemoData: false,
      clientId: '',
      clientSecret: '',
      env: {
        ...clusterEnv(),
        GRATICULE_PUBLIC_URL: PUBLIC_URL,
        GRATICULE_JOB_LEASE_SECONDS: String(JOB_LEASE_SECONDS),
        GRATICULE_API_TOKEN_CACHE_TTL_MS: String(API_TOKEN_CACHE_TTL_MS),
      },
    });

  beforeAll(async () => {
    metadata = await createScratchDatabase(pg, 'cluster');
    // Both start at once on the empty database: migrations, pg-boss's schema, the signing
    // key and the bootstrap account are each made once.
    const started = await Promise.allSettled([startNode(), startNode()]);
    for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    [nodeA, nodeB] = nodes as [ServerProcess, ServerProcess];

    // The banner follows the health check by a moment.
    await pollUntil(async () => nodes.some((node) => printedCredentials(node) !== null));
    const printer = nodes.find((node) => printedCredentials(node) !== null)!;
    bootstrap = printedCredentials(printer)!;
    // Node A is the one that printed them; B is the other.
    if (printer === nodeB) [nodeA, nodeB] = [nodeB, nodeA];
    tokenA = await fetchToken(nodeA.baseUrl, bootstrap.clientId, bootstrap.secret);
    tokenB = await fetchToken(nodeB.baseUrl, bootstrap.clientId, bootstrap.secret);

    const created = await call(nodeA, tokenA, 'POST', '/v3/connections', {
      name: 'pg_shared',
      provider_id: 'postgres',
      config: {
        host: pg.host,
        port: pg.port,
        database: pg.database,
        username: pg.username,
        password: pg.password,
      },
    });
    expect(created.status, created.text).toBe(201);
  }, 300_000);

  afterAll(async () => {
    for (const node of nodes) await node.stop();
    await metadata?.drop();
  });

  it('prints the bootstrap credentials once, and the other node issues tokens for them', () => {
    expect(printedCredentials(nodeB)).toBeNull();
    expect(nodeB.output()).toContain(`Bootstrap application client id: ${bootstrap.clientId}`);
    expect(tokenB).not.toBe('');
  });

  it('runs SQL on node B over a connection created on node A', async () => {
    const answer = await call(
      nodeB,
      tokenA,
      'GET',
      `/v3/sql/pg_shared/query?q=${encodeURIComponent('SELECT current_user AS who')}`,
    );

    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.rows).toEqual([{ who: pg.username }]);
  });

  it('issues tokens on B for an application made on A, until its secret is rotated', async () => {
    const created = await call(nodeA, tokenA, 'POST', '/v3/applications', {
      name: 'Cluster client',
      type: 'm2m',
    });
    expect(created.status, created.text).toBe(201);
    const { client_id: clientId, client_secret: oldSecret } = created.body;
    expect(await tokenStatus(nodeB, clientId, oldSecret)).toBe(200);

    const rotated = await call(nodeA, tokenA, 'POST', `/v3/applications/${clientId}/secret`);
    expect(rotated.status, rotated.text).toBe(200);

    expect(await tokenStatus(nodeB, clientId, oldSecret)).toBe(401);
    expect(await tokenStatus(nodeB, clientId, rotated.body.client_secret)).toBe(200);
  });

  it('accepts on B an API access token made on A, and refuses it once deleted on A', async () => {
    const created = await call(nodeA, tokenA, 'POST', '/v3/tokens', {
      grants: [{ connection_name: 'pg_shared', source: 'SELECT 1 AS one' }],
      allowed_apis: ['sql'],
    });
    expect(created.status, created.text).toBe(201);
    const route = `/v3/sql/pg_shared/query?q=${encodeURIComponent('SELECT 1 AS one')}`;
    const used = await call(nodeB, created.body.token, 'GET', route);
    expect(used.status, used.text).toBe(200);

    expect((await call(nodeA, tokenA, 'DELETE', `/v3/tokens/${created.body.id}`)).status).toBe(204);

    const isRefused = await pollUntil(
      async () => (await call(nodeB, created.body.token, 'GET', route)).status === 401,
      API_TOKEN_CACHE_TTL_MS + 10_000,
    );
    expect(isRefused).toBe(true);
  });

  it('answers 400, not 500, for text PostgreSQL cannot store', async () => {
    const created = await call(nodeA, tokenA, 'POST', '/v3/sql/pg_shared/job', {
      query: "SELECT 'a\u0000b' AS text",
    });

    expect(created.status, created.text).toBe(400);
    expect(created.body).toMatchObject({ status: 400, error: expect.stringMatching(/U\+0000/) });
  });

  it('shows on B a SQL job created on A, until it finishes', async () => {
    const created = await call(nodeA, tokenA, 'POST', '/v3/sql/pg_shared/job', {
      query: 'SELECT pg_sleep(0.2)',
    });
    expect(created.status, created.text).toBe(200);
    const id = created.body.externalId as string;
    const route = `/v3/sql/pg_shared/job/${id}`;

    const seen = await call(nodeB, tokenB, 'GET', route);
    expect(seen.status, seen.text).toBe(200);
    expect(seen.body).toMatchObject({ externalId: id, query: 'SELECT pg_sleep(0.2)' });
    const isDone = await pollUntil(
      async () => (await call(nodeB, tokenB, 'GET', route)).body.status === 'success',
      30_000,
    );
    expect(isDone).toBe(true);
    const listed = await call(nodeB, tokenB, 'GET', '/v3/sql/jobs?status=success');
    expect(listed.body.data.map((job: { externalId: string }) => job.externalId)).toContain(id);
  });

  it('lets the command line work on the shared store from another data directory', () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-cli-'));
    try {
      const listed = runCli(['apps', 'list', '--json'], { dataDir, env: clusterEnv() });

      expect(listed.status, listed.stderr).toBe(0);
      const ids = (JSON.parse(listed.stdout) as { client_id: string }[]).map((a) => a.client_id);
      expect(ids).toContain(bootstrap.clientId);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start with another scheme, or without the shared encryption key', () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-cli-'));
    try {
      const badScheme = runCli(['init'], {
        dataDir,
        env: { ...clusterEnv(), GRATICULE_METADATA_URL: 'mysql://u:Hidden123@db/x' },
      });
      const noKey = runCli(['init'], {
        dataDir,
        env: { ...clusterEnv(), GRATICULE_ENCRYPTION_KEY: '' },
      });

      expect(badScheme.status).toBe(2);
      expect(badScheme.stderr).toMatch(/GRATICULE_METADATA_URL must be a postgres:\/\//);
      expect(badScheme.stderr).not.toContain('Hidden123');
      expect(noKey.status).toBe(2);
      expect(noKey.stderr).toMatch(/GRATICULE_ENCRYPTION_KEY is required/);
      expect(noKey.stderr).not.toContain(pg.password);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  // Last: it kills one of the two nodes.
  it('reports as interrupted, on the other node, a job whose node was killed', async () => {
    const created = await call(nodeA, tokenA, 'POST', '/v3/sql/pg_shared/job', {
      query: 'SELECT pg_sleep(20)',
    });
    expect(created.status, created.text).toBe(200);
    const id = created.body.externalId as string;
    const route = `/v3/sql/pg_shared/job/${id}`;
    const isRunning = await pollUntil(
      async () => (await call(nodeA, tokenA, 'GET', route)).body.status === 'running',
    );
    expect(isRunning).toBe(true);

    const [claim] = await runAsSuperuser<{ node_id: string }>(
      { ...pg, database: metadata.name },
      'SELECT node_id FROM sql_jobs WHERE external_id = $1',
      [id],
    );
    const runner = nodes.find((node) => nodeIdFor(node.dataDir) === claim!.node_id)!;
    const survivor = nodes.find((node) => node !== runner)!;
    const survivorToken = survivor === nodeA ? tokenA : tokenB;
    await runner.kill();

    const isReported = await pollUntil(
      async () => (await call(survivor, survivorToken, 'GET', route)).body.status !== 'running',
      JOB_LEASE_SECONDS * 1000 + 20_000,
    );
    expect(isReported).toBe(true);
    expect((await call(survivor, survivorToken, 'GET', route)).body).toMatchObject({
      status: 'failure',
      error: { code: 'job_interrupted' },
    });
  });
});
