/**
 * Identity benchmark: token issuance (POST /oauth/token, client_credentials), bearer token
 * verification (in-process TokenService from dist/, and over HTTP for OAuth and API access
 * tokens) and the sign-in page (GET /login/{uid}), each beside its baseline in the same run:
 * jose signing and verification in-process, and /health on the same server at the same
 * concurrency. Then, unless turned off, the same loads on a server under `node --cpu-prof`,
 * to show where its time goes. Prints a report and writes JSON to bench/out/.
 *
 * The server runs without demo data (nothing here reads the warehouse) and with the token rate
 * limits (GRATICULE_TOKEN_RATE_LIMIT_PER_IP / _PER_CLIENT) raised far out of the way.
 *
 * Settings (environment): BENCH_AUTH_SECONDS (5, per HTTP run), BENCH_AUTH_CONCURRENCY ("1,8"),
 * BENCH_AUTH_MICRO_SECONDS (2, per in-process run), BENCH_AUTH_FRESH_TOKENS (8000, tokens
 * never seen by the server, for cache misses), BENCH_AUTH_LOGIN_REQUESTS (400),
 * BENCH_AUTH_PROFILE (1; 0 skips the profiled server), BENCH_AUTH_PROFILE_SECONDS (4).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureAlternatingLatency, measureLoad } from './lib/auth-load.mjs';
import { measureSigning, measureVerification, openKeys } from './lib/auth-micro.mjs';
import { monotonicUs, readProfile, summarizeProfile } from './lib/auth-profile.mjs';
import { printAuthReport } from './lib/auth-report.mjs';
import { RAISED_RATE_LIMIT, killAuthServers, startAuthServer } from './lib/auth-server.mjs';
import { prepareFixtures, startInteraction } from './lib/auth-setup.mjs';
import { BenchClient, issueToken, tokenRequestBody } from './lib/http-client.mjs';
import { CLIENT_ID, CLIENT_SECRET, MAIN_JS, scanServerLog, stopServer } from './lib/server.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
/** Answers 400 right after the bearer token verified: the route's own work is nil. */
const AUTH_ONLY_PATH = '/v3/sql/jobs?status=none';

const settings = {
  seconds: Number(process.env.BENCH_AUTH_SECONDS ?? 5),
  concurrency: (process.env.BENCH_AUTH_CONCURRENCY ?? '1,8').split(',').map(Number),
  microSeconds: Number(process.env.BENCH_AUTH_MICRO_SECONDS ?? 2),
  freshTokens: Number(process.env.BENCH_AUTH_FRESH_TOKENS ?? 8000),
  loginRequests: Number(process.env.BENCH_AUTH_LOGIN_REQUESTS ?? 400),
  profile: process.env.BENCH_AUTH_PROFILE !== '0',
  profileSeconds: Number(process.env.BENCH_AUTH_PROFILE_SECONDS ?? 4),
  tokenRateLimitPerMinute: RAISED_RATE_LIMIT,
};

const progress = (message) => process.stderr.write(`[bench:auth] ${message}\n`);
let tempRoot;
let serverLogPath;

const bearer = (token) => ({ authorization: `Bearer ${token}` });

/** The requests timed over HTTP, by name; `expect` is the status a correct answer has. */
function httpRequests(fixtures) {
  return {
    health: { path: '/health', expect: 200 },
    token: {
      path: '/oauth/token',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: tokenRequestBody(CLIENT_ID, CLIENT_SECRET),
      expect: 200,
    },
    oauthAuthOnly: { path: AUTH_ONLY_PATH, headers: bearer(fixtures.machineToken), expect: 400 },
    oauthAuthOnlyMiss: { path: AUTH_ONLY_PATH, expect: 400 },
    oauthJobs: { path: '/v3/sql/jobs', headers: bearer(fixtures.machineToken), expect: 200 },
    oauthMe: { path: '/v3/me', headers: bearer(fixtures.machineToken), expect: 200 },
    apiAuthOnly: { path: AUTH_ONLY_PATH, headers: bearer(fixtures.apiToken), expect: 400 },
    apiJobs: { path: '/v3/sql/jobs', headers: bearer(fixtures.apiToken), expect: 200 },
    login: { path: fixtures.loginPath, headers: { cookie: fixtures.cookie }, expect: 200 },
  };
}

/** Every request at every concurrency; fresh (never verified) tokens split between them. */
async function measureHttp(server, requests, pool) {
  const runs = [];
  const share = Math.floor(pool.length / settings.concurrency.length);
  for (const [index, connections] of settings.concurrency.entries()) {
    for (const [name, request] of Object.entries(requests)) {
      progress(`HTTP ${name} c=${connections}...`);
      const tokens =
        name === 'oauthAuthOnlyMiss' ? pool.slice(index * share, (index + 1) * share) : undefined;
      const run = await measureLoad(server, request, {
        connections,
        durationSeconds: settings.seconds,
        tokens,
      });
      runs.push({ name, path: request.path, expect: request.expect, ...run });
    }
  }
  return runs;
}

/** The main run: fixtures, in-process baselines, HTTP loads and sign-in page latency. */
async function measureServer(dataDir, logPath) {
  const server = await startAuthServer({ dataDir, logPath });
  progress(`server ready in ${(server.readyMs / 1000).toFixed(1)} s; fixtures...`);
  const client = new BenchClient(server.baseUrl);
  const fixtures = await prepareFixtures(client);
  const keys = await openKeys(dataDir);
  try {
    progress('in-process signing...');
    const template = { header: fixtures.machineHeader, claims: fixtures.machineClaims };
    const signing = await measureSigning(keys, template, {
      durationMs: settings.microSeconds * 1000,
      poolSize: settings.freshTokens,
    });
    progress('in-process verification...');
    const verification = await measureVerification(keys, fixtures, {
      durationMs: settings.microSeconds * 1000,
      pool: signing.pool,
    });
    const requests = httpRequests(fixtures);
    const http = await measureHttp(server, requests, signing.pool);
    progress('sign-in page latency...');
    const loginLatency = await measureAlternatingLatency(
      client,
      { health: requests.health, login: requests.login },
      settings.loginRequests,
    );
    const { pool, ...signingFigures } = signing;
    // Tokens and cookies stay out of the figures (and the JSON file).
    const figures = {
      readyMs: server.readyMs,
      tokenClaims: Object.keys(fixtures.machineClaims),
      freshTokens: pool.length,
      signing: signingFigures,
      verification,
      http,
      loginLatency,
    };
    return { figures, fixtures };
  } finally {
    client.close();
    await keys.store.destroy();
    await stopServer(server);
  }
}

/**
 * The same loads on a server under `node --cpu-prof`; each load's window of the profile is
 * summarized apart. The fixtures of the main run still hold, but for the OAuth token, whose
 * issuer names the old port.
 */
async function profileServer(dataDir, logPath, fixtures) {
  const profileDir = path.join(tempRoot, 'profile');
  const server = await startAuthServer({ dataDir, logPath, cpuProfileDir: profileDir });
  const client = new BenchClient(server.baseUrl);
  const machineToken = await issueToken(client, CLIENT_ID, CLIENT_SECRET);
  const interaction = await startInteraction(
    server.baseUrl,
    fixtures.spaClientId,
    fixtures.redirectUri,
  );
  const requests = httpRequests({ ...fixtures, ...interaction, machineToken });
  const names = ['token', 'oauthAuthOnly', 'oauthMe', 'apiJobs', 'login'];
  const connections = Math.max(...settings.concurrency);
  const windows = [];
  for (const name of names) {
    progress(`profiled ${name} c=${connections}...`);
    const startUs = monotonicUs();
    const run = await measureLoad(server, requests[name], {
      connections,
      durationSeconds: settings.profileSeconds,
    });
    windows.push({ name, startUs, endUs: monotonicUs(), count: run.count });
  }
  client.close();
  await stopServer(server);
  return summarizeProfile(readProfile(profileDir), windows);
}

function printServerLogTail() {
  if (!serverLogPath || !existsSync(serverLogPath)) return;
  const lines = readFileSync(serverLogPath, 'utf8').trimEnd().split('\n');
  console.error(`last server output (${serverLogPath}):\n${lines.slice(-30).join('\n')}`);
}

function cleanUp() {
  killAuthServers();
  if (tempRoot) rmSync(tempRoot, { recursive: true, force: true });
  tempRoot = undefined;
}

async function main() {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first`);
  tempRoot = mkdtempSync(path.join(os.tmpdir(), 'graticule-bench-auth-'));
  const dataDir = path.join(tempRoot, 'data');
  serverLogPath = path.join(tempRoot, 'server.log');
  const startedAt = new Date();
  const loadAtStart = os.loadavg();

  const { figures: server, fixtures } = await measureServer(dataDir, serverLogPath);
  const profile = settings.profile ? await profileServer(dataDir, serverLogPath, fixtures) : null;
  const results = {
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    machine: {
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      loadAverage1m: { start: loadAtStart[0], end: os.loadavg()[0] },
    },
    settings,
    server,
    profile,
    serverLog: scanServerLog(serverLogPath),
  };
  const outDir = path.join(BENCH_DIR, 'out');
  mkdirSync(outDir, { recursive: true });
  const outPath = path.join(outDir, `auth-${startedAt.toISOString().replaceAll(':', '-')}.json`);
  writeFileSync(outPath, `${JSON.stringify(results, null, 2)}\n`);
  printAuthReport(results);
  console.log(`\nJSON: ${path.relative(process.cwd(), outPath)}`);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanUp();
    process.exit(130);
  });
}
process.on('exit', cleanUp);

main()
  .catch((error) => {
    console.error(`bench:auth failed: ${error.stack ?? error}`);
    printServerLogTail();
    process.exitCode = 1;
  })
  .finally(cleanUp);
