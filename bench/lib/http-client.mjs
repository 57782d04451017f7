/**
 * A minimal keep-alive HTTP client on node:http, timing each request from send to the last
 * body byte. node:http rather than fetch: it adds no decompression or buffering of its own,
 * so the figures are the server's plus one loopback round trip.
 */
import { Buffer } from 'node:buffer';
import http from 'node:http';
import zlib from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { URL, URLSearchParams } from 'node:url';

const REQUEST_TIMEOUT_MS = 120_000;
const ERROR_TEXT_LIMIT = 300;

export class BenchClient {
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  /**
   * Sends one request. Resolves with status, body bytes, milliseconds and, for failures or
   * when `keepBody` is set, the body; rejects only on network errors.
   */
  request(pathOrUrl, { method = 'GET', headers = {}, body, keepBody = false } = {}) {
    const url = new URL(pathOrUrl, this.baseUrl);
    return new Promise((resolve, reject) => {
      const startedAt = performance.now();
      const req = http.request(url, { method, headers, agent: this.agent }, (res) => {
        const chunks = [];
        let bytes = 0;
        res.on('data', (chunk) => {
          bytes += chunk.length;
          chunks.push(chunk);
        });
        res.on('end', () => {
          const ms = performance.now() - startedAt;
          const status = res.statusCode ?? 0;
          const isFailure = status >= 400;
          const encoding = res.headers['content-encoding'] ?? 'identity';
          // Sizes are compared with uncompressed encoder output, so decode after timing.
          const decoded = decodeBody(Buffer.concat(chunks), encoding);
          const text = isFailure ? decoded.toString('utf8') : undefined;
          resolve({
            status,
            ms,
            bytes: decoded.length,
            wireBytes: bytes,
            encoding,
            body: keepBody ? decoded : undefined,
            errorText: text?.slice(0, ERROR_TEXT_LIMIT),
          });
        });
        res.on('error', reject);
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`timeout: ${url.pathname}`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async json(pathOrUrl, options) {
    const response = await this.request(pathOrUrl, { ...options, keepBody: true });
    if (response.status !== 200) {
      throw new Error(`${pathOrUrl} answered ${response.status}: ${response.errorText}`);
    }
    return { ...response, json: JSON.parse(response.body.toString('utf8')) };
  }

  close() {
    this.agent.destroy();
  }
}

/** The form CARTO's client-credentials flow posts to /oauth/token. */
export function tokenRequestBody(clientId, clientSecret) {
  return new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: clientSecret,
    audience: 'carto-cloud-native-api',
  }).toString();
}

export async function issueToken(client, clientId, clientSecret) {
  const { json } = await client.json('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: tokenRequestBody(clientId, clientSecret),
  });
  return json.access_token;
}

/** Runs `task` over `items` with `concurrency` callers pulling from one shared list. */
export async function runList(items, concurrency, task) {
  const results = new Array(items.length);
  let next = 0;
  const caller = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: concurrency }, caller));
  return { results, wallMs: performance.now() - startedAt };
}

/** Runs `task` repeatedly with `concurrency` callers until `durationMs` has passed. */
export async function runForDuration(durationMs, concurrency, task) {
  const results = [];
  const startedAt = performance.now();
  const caller = async () => {
    while (performance.now() - startedAt < durationMs) results.push(await task());
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return { results, wallMs: performance.now() - startedAt };
}

/**
 * Requests `path` every `intervalMs` until `stop` resolves: the latency of a trivial route
 * shows whether the server's event loop is free while heavier work runs.
 */
export async function pollLatency(client, path, intervalMs, stop) {
  const samples = [];
  let isStopped = false;
  stop.then(
    () => (isStopped = true),
    () => (isStopped = true),
  );
  while (!isStopped) {
    const at = performance.now();
    const response = await client.request(path);
    samples.push({ at, ms: response.ms, status: response.status });
    await delay(intervalMs);
  }
  return samples;
}

/** Undoes the Content-Encoding the server chose. */
function decodeBody(buffer, encoding) {
  if (encoding === 'gzip') return zlib.gunzipSync(buffer);
  if (encoding === 'br') return zlib.brotliDecompressSync(buffer);
  if (encoding === 'deflate') return zlib.inflateSync(buffer);
  return buffer;
}
