/**
 * Starts Graticule for the PostgreSQL benchmark with settings `startServer` in server.mjs does
 * not take (row limit, demo data, pool size), and creates the benchmark's connection on it.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { clearTimeout, setTimeout } from 'node:timers';
import { URLSearchParams } from 'node:url';
import { bearer } from './pg-http.mjs';
import { CLIENT_ID, CLIENT_SECRET, MAIN_JS, findFreePort } from './server.mjs';

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 30_000;

const children = new Set();

/** The inherited environment without Graticule settings, so only the benchmark's apply. */
function serverEnvironment(settings) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('GRATICULE_')),
  );
  delete env.HOST;
  delete env.PORT;
  return { ...env, ...settings };
}

function answersOk(baseUrl, route) {
  return new Promise((resolve) => {
    const req = http.get(`${baseUrl}${route}`, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/**
 * Spawns `node dist/main.js` with `settings` (GRATICULE_* variables) on a free port and
 * resolves once /ready answers: /health answers while the embedded warehouse still starts in
 * a worker, which takes a core for many seconds and would weigh on the first measurements.
 * Output goes to `logPath`.
 */
export async function startGraticule({ dataDir, logPath, settings }) {
  const port = await findFreePort();
  const baseUrl = `http://${HOST}:${port}`;
  const env = serverEnvironment({
    HOST,
    PORT: String(port),
    GRATICULE_DATA_DIR: dataDir,
    GRATICULE_BOOTSTRAP_CLIENT_ID: CLIENT_ID,
    GRATICULE_BOOTSTRAP_CLIENT_SECRET: CLIENT_SECRET,
    GRATICULE_LOG_LEVEL: 'warn',
    ...settings,
  });
  const log = createWriteStream(logPath, { flags: 'a' });
  const startedAt = performance.now();
  // For profiling the server, e.g. BENCH_PG_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p".
  const nodeArgs = (process.env.BENCH_PG_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, MAIN_JS], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exit;
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve((exit = { code, signal }))),
  );
  exited.then(() => children.delete(child));

  while (!(await answersOk(baseUrl, '/health')) || !(await answersOk(baseUrl, '/ready'))) {
    if (exit) throw new Error(`server exited before /ready (${JSON.stringify(exit)})`);
    if (performance.now() - startedAt > START_TIMEOUT_MS) {
      throw new Error(`server not ready after ${START_TIMEOUT_MS} ms`);
    }
    await delay(50);
  }
  return { child, pid: child.pid, baseUrl, readyMs: performance.now() - startedAt, exited };
}

export async function stopGraticule(server) {
  server.child.kill('SIGTERM');
  const grace = setTimeout(() => server.child.kill('SIGKILL'), STOP_GRACE_MS);
  const exit = await server.exited;
  clearTimeout(grace);
  return exit;
}

/** For failures and signals, where waiting is not an option. */
export function killGraticule() {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

/** `POST /v3/connections` for the cluster's application role; answers the connection. */
export function createConnection(client, token, info, { name, maxConnections }) {
  const body = JSON.stringify({
    name,
    provider_id: 'postgres',
    config: {
      host: info.host,
      port: info.port,
      database: info.database,
      username: info.username,
      password: info.password,
      sslmode: 'disable',
      maxConnections,
    },
  });
  const headers = { ...bearer(token), 'content-type': 'application/json' };
  return client.json('/v3/connections', { method: 'POST', headers, body }, 201);
}

/**
 * CARTO's two-step instantiation of a table source as MVT: the source answer names the
 * TileJSON, whose `tiles[0]` is the URL template, re-aimed at our own server.
 */
export async function tileTemplate(client, token, connection, table, geomColumn) {
  const params = new URLSearchParams({
    name: table,
    spatialDataColumn: geomColumn,
    formatTiles: 'mvt',
  });
  const headers = bearer(token);
  const source = await client.json(`/v3/maps/${connection}/table?${params}`, { headers });
  const local = (url) => url.replace(/^[a-z]+:\/\/[^/]+/i, client.baseUrl);
  const tilejson = await client.json(local(source.tilejson.url[0]), { headers });
  return { template: local(tilejson.tiles[0]), tilejson };
}
