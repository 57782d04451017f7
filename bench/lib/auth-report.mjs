/** Prints the identity benchmark's results: each figure beside its baseline and target. */
import { fixed, ms, percent, seconds, table } from './report.mjs';

export const AUTH_TARGETS = {
  tokensPerCpuSecond: 2_000,
  verificationsPerCpuSecond: 20_000,
  loginP99Ms: 50,
};

const say = (...lines) => console.log(lines.join('\n'));
const int = fixed(0);
const one = fixed(1);

const LABELS = {
  health: 'GET /health (no auth)',
  token: 'POST /oauth/token',
  oauthAuthOnly: 'OAuth token, auth only, cache hit',
  oauthAuthOnlyMiss: 'OAuth token, auth only, cache miss',
  oauthJobs: 'OAuth token, GET /v3/sql/jobs',
  oauthMe: 'OAuth token, GET /v3/me',
  apiAuthOnly: 'API token, auth only',
  apiJobs: 'API token, GET /v3/sql/jobs',
  login: 'GET /login/{uid}',
};

/** 'met' or 'MISSED' for a lower-bound target; a figure, never a failure of the run. */
function atLeast(value, target) {
  if (!Number.isFinite(value)) return '';
  return value >= target ? 'met' : 'MISSED';
}

function statusText(run) {
  const codes = Object.entries(run.statuses)
    .map(([code, count]) => (Number(code) === run.expect ? code : `${code}x${count}`))
    .join(',');
  return run.errors > 0 ? `${codes} err ${run.errors}` : codes;
}

const runOf = (r, name, connections) =>
  r.server.http.find((run) => run.name === name && run.connections === connections);

function loadRow(run, extra = []) {
  return [
    `${LABELS[run.name]} c=${run.connections}`,
    int(run.perSecond),
    int(run.perServerCpuSecond),
    int(run.serverCpuUsPerRequest),
    int(run.p50Ms),
    int(run.p99Ms),
    statusText(run),
    ...extra,
  ];
}

function opsRow(label, figures, extra = []) {
  return [
    `${label}, ${figures.inFlight} in flight`,
    int(figures.perSecond),
    int(figures.perCpuSecond),
    one(figures.cpuUsPerOp),
    ...extra,
  ];
}

function printHeader(r) {
  const { machine, settings, server } = r;
  const load = machine.loadAverage1m;
  say(
    `Graticule identity benchmark, ${r.startedAt}, ${seconds(r.durationMs)} in all`,
    `  node ${machine.node}, ${machine.cpus} x ${machine.cpuModel}`,
    `  load average (1 min) ${load.start.toFixed(2)} at start, ${load.end.toFixed(2)} at end` +
      ' (shared machine: figures move with it)',
    `  Server: no demo data, ready in ${seconds(server.readyMs)};` +
      ' GRATICULE_TOKEN_RATE_LIMIT_PER_IP and',
    `  GRATICULE_TOKEN_RATE_LIMIT_PER_CLIENT raised to ${int(settings.tokenRateLimitPerMinute)}` +
      '/min so the limiter answers no 429.',
    `  HTTP: autocannon in this process, ${settings.seconds} s a run. /s = requests per wall` +
      ' second;',
    '  /CPU-s = per CPU-second of the server process (all its threads: "on one core");',
    '  CPU µs = server CPU per request. The client shares the machine with the server.',
  );
}

function printIssuance(r) {
  const { signing } = r.server;
  const rows = [];
  for (const c of r.settings.concurrency) {
    const run = runOf(r, 'token', c);
    rows.push(
      loadRow(run, [
        `>= ${int(AUTH_TARGETS.tokensPerCpuSecond)}/CPU-s`,
        atLeast(run.perServerCpuSecond, AUTH_TARGETS.tokensPerCpuSecond),
      ]),
    );
  }
  for (const c of r.settings.concurrency) rows.push(loadRow(runOf(r, 'health', c), ['', '']));
  const signRow = (label, figures) => {
    const row = opsRow(label, figures);
    return [...row, '', '', '', 'baseline', ''];
  };
  rows.push(signRow('jose RS256 sign in-process', signing.sequential));
  rows.push(signRow('jose RS256 sign in-process', signing.parallel));
  rows.push(signRow('node:crypto RSA sign (floor)', r.server.verification.floor.rsaSign));
  const headers = ['measure', '/s', '/CPU-s', 'CPU µs', 'p50 ms', 'p99 ms', 'status', 'target', ''];
  const busiest = runOf(r, 'token', Math.max(...r.settings.concurrency));
  const share = signing.sequential.cpuUsPerOp / busiest.serverCpuUsPerRequest;
  say(
    '\n1. Token issuance, client_credentials with client_secret_post',
    table(headers, rows),
    '  (autocannon reports latency in whole milliseconds.)',
    `  RS256 signing is ${one(signing.sequential.cpuUsPerOp)} µs of the` +
      ` ${int(busiest.serverCpuUsPerRequest)} µs of server CPU per token (${percent(share)});` +
      ` /health costs ${int(runOf(r, 'health', busiest.connections).serverCpuUsPerRequest)} µs.`,
  );
}

function printInProcessVerification(r) {
  const v = r.server.verification;
  const target = `>= ${int(AUTH_TARGETS.verificationsPerCpuSecond)}/CPU-s`;
  const judged = (label, figures) =>
    opsRow(label, figures, [
      target,
      atLeast(figures.perCpuSecond, AUTH_TARGETS.verificationsPerCpuSecond),
    ]);
  const baseline = (label, figures) => opsRow(label, figures, ['baseline', '']);
  const besideMiss = v.floor.rsaVerifyBesideMiss;
  const rows = [
    baseline('node:crypto RSA verify (floor)', v.floor.rsaVerify),
    baseline('jose jwtVerify RS256, fresh tokens', v.joseRs256),
    ...(besideMiss ? [baseline('node:crypto RSA verify, same tokens, beside', besideMiss)] : []),
    judged('TokenService.verify, fresh token (miss)', v.serviceMiss),
    judged('TokenService.verify, same token (hit)', v.serviceHit),
    baseline('node:crypto HMAC-SHA256 check (floor)', v.floor.hmacVerify),
    baseline('jose jwtVerify HS256, API token', v.joseHs256),
    judged('TokenService.verify, API token', v.serviceApiToken),
  ];
  say(
    `\n2. Bearer verification in-process (dist/auth/token-service.js, ${r.server.freshTokens}` +
      ' fresh tokens signed with the server key; each verifier warms up on the first quarter' +
      ' and is timed on the rest, tokens it never saw)',
    table(['measure', '/s', '/CPU-s', 'CPU µs', 'target', ''], rows),
    `  TokenService ${v.withDirectory ? 'with' : 'without'} the identity directory, as the` +
      ' server wires it.',
    ...(besideMiss
      ? [
          '  Fresh tokens: service and bare RSA check in alternating blocks of 100 on the same' +
            ` tokens; the service adds ${one(v.serviceMiss.cpuUsPerOp - besideMiss.cpuUsPerOp)}` +
            ' µs to the RSA check.',
        ]
      : []),
    '  Application lookup by client id (the token endpoint makes several a request):' +
      ` ${one(v.clientLookup.viaStore.cpuUsPerOp)} µs`,
    '  through ApplicationStore (Kysely, the statement prepared each time),' +
      ` ${one(v.clientLookup.prepared.cpuUsPerOp)} µs as a reused better-sqlite3 statement.`,
  );
}

function printHttpVerification(r) {
  const names = [
    'health',
    'oauthAuthOnly',
    'oauthAuthOnlyMiss',
    'apiAuthOnly',
    'oauthJobs',
    'apiJobs',
    'oauthMe',
  ];
  const rows = [];
  for (const c of r.settings.concurrency) {
    const health = runOf(r, 'health', c);
    for (const name of names) {
      const run = runOf(r, name, c);
      const deltaUs = run.serverCpuUsPerRequest - health.serverCpuUsPerRequest;
      const implied = name === 'health' || deltaUs <= 0 ? NaN : 1e6 / deltaUs;
      rows.push(loadRow(run, [name === 'health' ? 'baseline' : int(deltaUs), int(implied)]));
    }
  }
  const headers = ['route', '/s', '/CPU-s', 'CPU µs', 'p50 ms', 'p99 ms', 'status'];
  say(
    '\n3. Bearer verification over HTTP; "auth only" = GET /v3/sql/jobs?status=none, answered' +
      ' 400 right after',
    '   the token verified (no database); /v3/sql/jobs reads the metadata store (SQLite) twice,',
    "   /v3/me three times. Δ µs = server CPU per request minus /health's; 1e6/Δ = what that" +
      ' difference',
    '   allows per CPU-second.',
    table([...headers, 'Δ µs', '1e6/Δ'], rows),
  );
}

function printLogin(r) {
  const { health, login } = r.server.loginLatency;
  const row = (label, f, extra) => [
    label,
    f.count,
    ms(f.p50, 2),
    ms(f.p99, 2),
    ms(f.mean, 2),
    ms(f.max, 2),
    Object.keys(f.statuses).join(','),
    ...extra,
  ];
  const rows = [
    row('GET /login/{uid}', login, [
      `p99 < ${AUTH_TARGETS.loginP99Ms} ms`,
      Number.isFinite(login.p99) ? (login.p99 < AUTH_TARGETS.loginP99Ms ? 'met' : 'MISSED') : '',
    ]),
    row('GET /health', health, ['baseline', '']),
  ];
  const loaded = r.settings.concurrency.flatMap((c) => [
    loadRow(runOf(r, 'login', c)),
    loadRow(runOf(r, 'health', c)),
  ]);
  say(
    `\n4. Sign-in page (no password hash on GET), ${login.count} requests one at a time,` +
      ' alternating with /health',
    table(['request', 'n', 'p50 ms', 'p99 ms', 'mean ms', 'max ms', 'status', 'target', ''], rows),
    '  under load (autocannon):',
    table(['route', '/s', '/CPU-s', 'CPU µs', 'p50 ms', 'p99 ms', 'status'], loaded),
  );
}

function printProfile(r) {
  if (!r.profile) return;
  say(
    "\n5. Where the server's time goes (node --cpu-prof, a second server, each load alone at" +
      ` c=${Math.max(...r.settings.concurrency)} for ${r.settings.profileSeconds} s; profiling` +
      ' slows it down)',
    "   own = samples in that package's code; on stack = samples with it anywhere below.",
  );
  for (const w of r.profile) {
    const per = (valueMs) => `${int((valueMs * 1000) / w.count)} µs`;
    const share = (valueMs) => percent(valueMs / w.busyMs);
    const pairs = (list) => list.map(([name, v]) => `${name} ${share(v)}`).join(', ');
    say(
      `  ${LABELS[w.name]}: ${w.count} requests, main thread busy ${int(w.busyMs)} ms` +
        ` (${per(w.busyMs)} a request), idle ${int(w.idleMs)} ms`,
      `    own:      ${pairs(w.self)}`,
      `    on stack: ${pairs(w.onStack)}`,
      '    top functions (own time):',
      ...w.functions.slice(0, 8).map(([name, v]) => `      ${share(v).padStart(4)}  ${name}`),
    );
  }
}

function printServerLog(r) {
  say(`\n6. Server log: ${r.serverLog.length} warning/error lines`);
  const counts = new Map();
  for (const line of r.serverLog) counts.set(line, (counts.get(line) ?? 0) + 1);
  for (const [line, count] of [...counts].slice(0, 10)) say(`  ${count} x ${line}`);
}

export function printAuthReport(results) {
  printHeader(results);
  printIssuance(results);
  printInProcessVerification(results);
  printHttpVerification(results);
  printLogin(results);
  printProfile(results);
  printServerLog(results);
}
