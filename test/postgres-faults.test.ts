import { afterAll, beforeAll, expect, it } from 'vitest';
import { fetchToken } from './support/api.js';
import { createPostgresConnection } from './support/postgres-demo.js';
import {
  describeWithPostgres,
  pollUntil,
  restartPostgres,
  runAsSuperuser,
} from './support/postgres.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

/**
 * What users of a PostgreSQL connection see when queries run long, clients go away, the pool
 * runs dry or the database restarts: a JSON error with the right status, the backend query
 * stopped, and the next request served without restarting Graticule.
 */
describeWithPostgres('PostgreSQL connection faults through the HTTP API', (pg) => {
  let server: ServerProcess;
  let token = '';

  beforeAll(async () => {
    server = await startServerProcess({
      loadDemoData: false,
      env: {
        GRATICULE_QUERY_TIMEOUT_MS: '2000',
        GRATICULE_POOL_MAX_CONNECTIONS: '2',
        GRATICULE_POOL_ACQUIRE_TIMEOUT_MS: '1000',
      },
    });
    token = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    await createPostgresConnection(server.baseUrl, token, pg, 'pg_faults');
  });
  afterAll(async () => server?.stop());

  const sql = (q: string, signal?: AbortSignal) =>
    fetch(`${server.baseUrl}/v3/sql/pg_faults/query?q=${encodeURIComponent(q)}`, {
      headers: { Authorization: `Bearer ${token}` },
      signal,
    });

  /** Our backends still running `text`, as pg_stat_activity shows them. */
  const running = async (text: string) => {
    const rows = await runAsSuperuser<{ n: number }>(
      pg,
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE application_name = 'graticule' AND state = 'active' AND query LIKE $1`,
      [`%${text}%`],
    );
    return rows[0]!.n;
  };
  const healthy = async () => (await sql('SELECT 1 AS x')).status === 200;

  it('ends a statement past the timeout with 400 JSON and stops it in the database', async () => {
    const response = await sql('SELECT pg_sleep(30) AS timeout_probe');
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; error: string };
    expect(body.code).toBe('query_timeout');
    expect(body.error).toMatch(/timed out/);
    expect(await pollUntil(async () => (await running('timeout_probe')) === 0, 5_000)).toBe(true);
    expect(await healthy()).toBe(true);
  });

  it('cancels the backend query when the HTTP client goes away', async () => {
    const controller = new AbortController();
    const pending = sql('SELECT pg_sleep(20) AS disconnect_probe', controller.signal);
    expect(await pollUntil(async () => (await running('disconnect_probe')) === 1, 5_000)).toBe(
      true,
    );
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect(await pollUntil(async () => (await running('disconnect_probe')) === 0, 5_000)).toBe(
      true,
    );
    expect(await healthy()).toBe(true);
  });

  it('answers 503 with Retry-After while the pool stays busy, within its size', async () => {
    const burst = Array.from({ length: 6 }, () => sql('SELECT pg_sleep(1.5) AS pool_probe'));
    let peak = 0;
    const sampling = pollUntil(async () => {
      peak = Math.max(peak, await running('pool_probe'));
      return false;
    }, 2_000);
    const health = await fetch(`${server.baseUrl}/health`);
    expect(health.status).toBe(200);
    const responses = await Promise.all(burst);
    await sampling;
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    const busy = responses.filter((r) => r.status === 503);
    expect(busy).toHaveLength(4);
    expect(busy[0]!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await busy[0]!.json()) as { code: string }).code).toBe('warehouse_busy');
    expect(peak).toBeLessThanOrEqual(2);
    expect(await healthy()).toBe(true);
  });

  it('fails a query cleanly when the database restarts, then serves the next one', async () => {
    const pending = sql('SELECT pg_sleep(20) AS restart_probe');
    expect(await pollUntil(async () => (await running('restart_probe')) === 1, 5_000)).toBe(true);
    await restartPostgres(pg);
    const response = await pending;
    expect(response.status).toBeGreaterThanOrEqual(500);
    expect(response.status).toBeLessThan(600);
    expect(((await response.json()) as { error: string }).error).not.toMatch(/password/i);
    expect(await pollUntil(healthy, 15_000)).toBe(true);
  });
});
