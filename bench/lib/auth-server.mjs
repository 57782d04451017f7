/**
 * Starts the Graticule server for the identity benchmark: no demo data (nothing here reads the
 * warehouse), token rate limits raised so the limiter never answers 429, and optionally a CPU
 * profile written when the server exits.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { CLIENT_ID, CLIENT_SECRET, MAIN_JS, findFreePort } from './server.mjs';

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 300_000;
const HEALTH_POLL_MS = 50;

/** Far above what two cores can issue in a minute: the limiter stays out of the figures. */
export const RAISED_RATE_LIMIT = 100_000_000;

const children = new Set();

function isHealthy(baseUrl) {
  return new Promise((resolve) => {
    const req = http.get(`${baseUrl}/health`, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** The inherited environment without Graticule settings, so only ours apply. */
function serverEnvironment(settings) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('GRATICULE_')),
  );
  delete env.HOST;
  delete env.PORT;
  return { ...env, ...settings };
}

/**
 * Spawns `node dist/main.js` on a free port and resolves once /health answers 200. With
 * `cpuProfileDir`, Node writes a `.cpuprofile` there when the server exits.
 */
export async function startAuthServer({ dataDir, logPath, cpuProfileDir }) {
  const port = await findFreePort();
  const baseUrl = `http://${HOST}:${port}`;
  const env = serverEnvironment({
    HOST,
    PORT: String(port),
    GRATICULE_DATA_DIR: dataDir,
    GRATICULE_BOOTSTRAP_CLIENT_ID: CLIENT_ID,
    GRATICULE_BOOTSTRAP_CLIENT_SECRET: CLIENT_SECRET,
    GRATICULE_DEMO_DATA: 'false',
    GRATICULE_LOG_LEVEL: 'warn',
    GRATICULE_TOKEN_RATE_LIMIT_PER_IP: String(RAISED_RATE_LIMIT),
    GRATICULE_TOKEN_RATE_LIMIT_PER_CLIENT: String(RAISED_RATE_LIMIT),
  });
  const nodeArgs = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const log = createWriteStream(logPath, { flags: 'a' });
  const startedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, MAIN_JS], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exit;
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  exited.then((result) => {
    exit = result;
    children.delete(child);
  });

  while (!(await isHealthy(baseUrl))) {
    if (exit) throw new Error(`server exited before /health (${JSON.stringify(exit)})`);
    if (performance.now() - startedAt > START_TIMEOUT_MS) {
      throw new Error(`server not healthy after ${START_TIMEOUT_MS} ms; see ${logPath}`);
    }
    await delay(HEALTH_POLL_MS);
  }
  return { child, pid: child.pid, baseUrl, readyMs: performance.now() - startedAt, exited };
}

/** Kills every server this module started that still runs; for failed runs. */
export function killAuthServers() {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}
