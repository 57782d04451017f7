import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** What the helpers here read of a request: its headers (a Fastify or a Node request). */
interface WithHeaders {
  headers: IncomingHttpHeaders;
}

/** CARTO lets a client lower a response's lifetime, but not below this. */
const MIN_CLIENT_MAX_AGE_SECONDS = 10;

/**
 * `Cache-Control` for a cacheable answer: the server's lifetime, lowered when the request's
 * own `Cache-Control: max-age=N` asks for less (never below 10 s). Answers carry private data
 * behind a bearer token, so shared caches must not keep them.
 */
export function cacheControlFor(request: WithHeaders, maxAgeSeconds: number): string {
  const header = request.headers['cache-control'];
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(header ?? '');
  let seconds = maxAgeSeconds;
  if (match?.[1] !== undefined) {
    const asked = Math.max(Number(match[1]), MIN_CLIENT_MAX_AGE_SECONDS);
    seconds = Math.min(seconds, asked);
  }
  return seconds > 0 ? `private, max-age=${seconds}` : 'no-store';
}

/**
 * `Cache-Control` of an answer computed from a source (widgets, stats). A GET names everything
 * the answer depends on, so it may be cached like a SQL API GET; tables change under it, so
 * they get the maps' shorter table lifetime. POST answers are never cached.
 */
export function sourceAnswerCacheControl(
  request: FastifyRequest,
  sourceType: 'table' | 'query',
  lifetimes: { tileMaxAgeSeconds: number; sqlGetMaxAgeSeconds: number },
): string {
  if (request.method !== 'GET') return 'no-store';
  const maxAge =
    sourceType === 'table' ? lifetimes.tileMaxAgeSeconds : lifetimes.sqlGetMaxAgeSeconds;
  return cacheControlFor(request, maxAge);
}

/**
 * A cacheable answer depends on the bearer token that asked for it (another account, a
 * revoked or a bad token must not get it from a browser's cache): it varies by
 * `Authorization`, added to whatever `Vary` the answer already has.
 */
export function varyByAuthorization(reply: FastifyReply): void {
  const cacheControl = reply.getHeader('Cache-Control');
  if (cacheControl === undefined || /no-store/i.test(String(cacheControl))) return;
  const vary = reply.getHeader('Vary');
  const names =
    vary === undefined
      ? []
      : String(vary)
          .split(',')
          .map((name) => name.trim());
  if (names.some((name) => name === '*' || name.toLowerCase() === 'authorization')) return;
  reply.header('Vary', [...names.filter((name) => name !== ''), 'Authorization'].join(', '));
}

/**
 * Whether `If-None-Match` names `etag` (RFC 9110 § 13.1.2): a list of tags, compared weakly
 * (a `W/` prefix on either side is ignored), or `*`. A client that holds a current copy gets
 * a 304 whichever form its cache sends.
 */
export function matchesIfNoneMatch(request: WithHeaders, etag: string): boolean {
  const header = request.headers['if-none-match'];
  if (!header) return false;
  const ours = etag.replace(/^W\//, '');
  return header.split(',').some((tag) => {
    const theirs = tag.trim();
    return theirs === '*' || theirs.replace(/^W\//, '') === ours;
  });
}
