/**
 * The one HTTP client of the PostgreSQL benchmark, on node:http with a keep-alive agent. Bodies
 * are counted and dropped as they arrive unless asked for, so a 1M-row answer costs the client
 * no memory and the server's RSS is the only one that moves.
 */
import { Buffer } from 'node:buffer';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { URL, URLSearchParams } from 'node:url';

const REQUEST_TIMEOUT_MS = 300_000;
const ERROR_TEXT_LIMIT = 300;

export class StreamingClient {
  constructor(baseUrl, maxSockets = 16) {
    this.baseUrl = baseUrl;
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  /**
   * One request, timed from send to the last body byte. Resolves with status, ms, bytes and,
   * for failures or with `keepBody`, the body; `onChunk` sees every chunk before it is dropped.
   * Network errors resolve as status 0, so a load run counts them instead of stopping.
   */
  request(pathOrUrl, { method = 'GET', headers = {}, body, keepBody = false, onChunk } = {}) {
    const url = new URL(pathOrUrl, this.baseUrl);
    return new Promise((resolve) => {
      const startedAt = performance.now();
      const failed = (error) =>
        resolve({ status: 0, ms: performance.now() - startedAt, bytes: 0, errorText: `${error}` });
      const req = http.request(url, { method, headers, agent: this.agent }, (res) => {
        const status = res.statusCode ?? 0;
        const keep = keepBody || status >= 400;
        const chunks = [];
        let bytes = 0;
        res.on('data', (chunk) => {
          bytes += chunk.length;
          onChunk?.(chunk);
          if (keep) chunks.push(chunk);
        });
        res.on('end', () => {
          const kept = keep ? Buffer.concat(chunks) : undefined;
          resolve({
            status,
            ms: performance.now() - startedAt,
            bytes,
            headers: res.headers,
            body: keepBody ? kept : undefined,
            errorText: status >= 400 ? kept.toString('utf8').slice(0, ERROR_TEXT_LIMIT) : undefined,
          });
        });
        res.on('error', failed);
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`timeout: ${url.pathname}`)));
      req.on('error', failed);
      req.end(body);
    });
  }

  /** A request whose JSON answer is needed; anything but `expected` status throws. */
  async json(pathOrUrl, options = {}, expected = 200) {
    const response = await this.request(pathOrUrl, { ...options, keepBody: true });
    if (response.status !== expected) {
      throw new Error(`${pathOrUrl} answered ${response.status}: ${response.errorText ?? ''}`);
    }
    return JSON.parse(response.body.toString('utf8'));
  }

  close() {
    this.agent.destroy();
  }
}

export const bearer = (token) => ({ authorization: `Bearer ${token}` });

export async function issueToken(client, clientId, clientSecret) {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: clientSecret,
    audience: 'carto-cloud-native-api',
  }).toString();
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const answer = await client.json('/oauth/token', { method: 'POST', headers, body });
  return answer.access_token;
}

/**
 * Counts occurrences of `needle` across a stream of chunks without joining them: the last
 * `needle.length - 1` bytes of each chunk are carried into the next, so a match split over a
 * chunk boundary is counted once.
 */
export function createOccurrenceCounter(needle) {
  const pattern = Buffer.from(needle);
  let carry = Buffer.alloc(0);
  let count = 0;
  return {
    push(chunk) {
      const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      for (let at = data.indexOf(pattern); at !== -1; at = data.indexOf(pattern, at + 1)) {
        count += 1;
      }
      carry = data.subarray(Math.max(0, data.length - (pattern.length - 1)));
      // A copy, so the carried bytes do not pin the whole chunk in memory.
      carry = Buffer.from(carry);
    },
    get count() {
      return count;
    },
  };
}
