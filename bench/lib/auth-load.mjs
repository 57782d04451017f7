/**
 * Load against the running server: autocannon runs for throughput, one-at-a-time requests for
 * latency percentiles, and the server's CPU time around each run, so a rate can be stated per
 * CPU-second of the server ("on one core") as well as per wall-clock second.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { summarize } from './stats.mjs';

// /proc/<pid>/stat counts CPU time in clock ticks, 100 a second on Linux.
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system, every thread) a process has used so far; NaN if unknown. */
export function readCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

function runAutocannon(options) {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * One autocannon run of `request` with `connections` callers, for `durationSeconds` or, with
 * `tokens`, once per token (each request then carries the next one as its bearer token).
 */
export async function measureLoad(server, request, { connections, durationSeconds, tokens }) {
  const { path, method = 'GET', headers = {}, body } = request;
  let next = 0;
  const requests = tokens
    ? [
        {
          setupRequest: (req) => ({
            ...req,
            headers: { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
          }),
        },
      ]
    : undefined;
  const serverCpuBefore = readCpuSeconds(server.pid);
  const clientCpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const result = await runAutocannon({
    url: `${server.baseUrl}${path}`,
    method,
    headers,
    body,
    connections,
    ...(tokens ? { amount: tokens.length } : { duration: durationSeconds }),
    ...(requests && { requests }),
  });
  // autocannon's own `duration` is in whole seconds; short runs need the real figure.
  const wallSeconds = (performance.now() - startedAt) / 1000;
  const serverCpuSeconds = readCpuSeconds(server.pid) - serverCpuBefore;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const count = result.requests.total;
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count]),
  );
  return {
    connections,
    count,
    wallSeconds,
    perSecond: count / wallSeconds,
    serverCpuSeconds,
    perServerCpuSecond: count / serverCpuSeconds,
    serverCpuUsPerRequest: (serverCpuSeconds * 1e6) / count,
    clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    statuses,
    errors: result.errors + result.timeouts,
  };
}

/**
 * `count` rounds of one request to each of `requests`, one at a time and alternating, so every
 * route sees the same machine load; answers latency figures per route name.
 */
export async function measureAlternatingLatency(client, requests, count) {
  const samples = Object.fromEntries(Object.keys(requests).map((name) => [name, []]));
  const statuses = Object.fromEntries(Object.keys(requests).map((name) => [name, {}]));
  for (let i = 0; i < count; i += 1) {
    for (const [name, { path, headers }] of Object.entries(requests)) {
      const response = await client.request(path, { headers });
      samples[name].push(response.ms);
      statuses[name][response.status] = (statuses[name][response.status] ?? 0) + 1;
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, values]) => {
      const figures = summarize(values);
      return [name, { ...figures, statuses: statuses[name] }];
    }),
  );
}
