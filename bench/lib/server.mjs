/**
 * Starts and stops Graticule server processes for the benchmark, measures time to healthy, and
 * reads their memory. Every child is remembered so it can be killed if the run fails.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { clearTimeout, setTimeout } from 'node:timers';
import { URL, fileURLToPath } from 'node:url';

export const CLIENT_ID = 'bench';
export const CLIENT_SECRET = 'bench-secret-0123456789';
export const MAIN_JS = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

const HOST = '127.0.0.1';
const HEALTH_POLL_MS = 50;
const START_TIMEOUT_MS = 300_000;
const STOP_GRACE_MS = 60_000;

const children = new Set();

/** A port free on the loopback interface right now. */
export function findFreePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
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

/** One /health probe on a fresh connection; any failure counts as not healthy yet. */
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

/**
 * Spawns `node dist/main.js` and resolves once /health answers 200, with the milliseconds from
 * spawn to that answer. Output goes to `logPath` for the end-of-run checks.
 */
export async function startServer({ dataDir, tileCacheMb, tileMaxFeatures, logPath }) {
  const port = await findFreePort();
  const baseUrl = `http://${HOST}:${port}`;
  const env = serverEnvironment({
    HOST,
    PORT: String(port),
    GRATICULE_DATA_DIR: dataDir,
    GRATICULE_BOOTSTRAP_CLIENT_ID: CLIENT_ID,
    GRATICULE_BOOTSTRAP_CLIENT_SECRET: CLIENT_SECRET,
    GRATICULE_LOG_LEVEL: 'warn',
    GRATICULE_TILE_CACHE_MB: String(tileCacheMb),
    GRATICULE_TILE_MAX_FEATURES: String(tileMaxFeatures),
  });
  const log = createWriteStream(logPath, { flags: 'a' });
  const startedAt = performance.now();
  const child = spawn(process.execPath, [MAIN_JS], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  exited.then(() => children.delete(child));

  let exit;
  exited.then((result) => (exit = result));
  while (!(await isHealthy(baseUrl))) {
    if (exit)
      throw new Error(`server exited before /health (${JSON.stringify(exit)}); see ${logPath}`);
    if (performance.now() - startedAt > START_TIMEOUT_MS) {
      throw new Error(`server not healthy after ${START_TIMEOUT_MS} ms; see ${logPath}`);
    }
    await delay(HEALTH_POLL_MS);
  }
  const readyMs = performance.now() - startedAt;
  return { child, pid: child.pid, baseUrl, readyMs, exited, logPath };
}

/** SIGTERM, then the milliseconds until the process exits (SIGKILL after a grace period). */
export async function stopServer(server) {
  const startedAt = performance.now();
  server.child.kill('SIGTERM');
  const grace = setTimeout(() => server.child.kill('SIGKILL'), STOP_GRACE_MS);
  const exit = await server.exited;
  clearTimeout(grace);
  return { stopMs: performance.now() - startedAt, ...exit };
}

/** Kills every server still running; for failures and signals, where waiting is not an option. */
export function killAllServers() {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

/** Resident and peak resident memory of a process, in MB, from /proc (Linux). */
export function readMemory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rssMb: field('VmRSS') / 1024, peakRssMb: field('VmHWM') / 1024 };
  } catch {
    return { rssMb: NaN, peakRssMb: NaN };
  }
}

function describeLogEntry(entry) {
  const error = entry.err ? ` (${entry.err.type ?? 'error'}: ${entry.err.message})` : '';
  return `${entry.msg ?? ''}${error}`.slice(0, 300);
}

/**
 * Warnings and errors the server logged (pino JSON at level 40+) plus any other non-JSON
 * lines that look like warnings, so the report can show what went wrong without a debug run.
 */
export function scanServerLog(logPath) {
  const lines = readFileSync(logPath, 'utf8').split('\n');
  const findings = [];
  for (const line of lines) {
    if (line.startsWith('{')) {
      try {
        const entry = JSON.parse(line);
        if (entry.level >= 40) findings.push(`level ${entry.level}: ${describeLogEntry(entry)}`);
      } catch {
        findings.push(line.slice(0, 200));
      }
    } else if (/warn|error|fail/i.test(line)) {
      findings.push(line.slice(0, 200));
    }
  }
  return findings;
}
