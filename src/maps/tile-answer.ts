/**
 * How a built tile is answered: status, headers and body from the request's conditional,
 * caching and encoding headers. The application's tile routes and the cached-tile path both
 * answer through `answerTile`, so the two cannot drift apart.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { cacheControlFor, matchesIfNoneMatch } from '../http/cache-control.js';
import { MIN_GZIP_BYTES, acceptsGzip, type CachedTile } from './tile-cache.js';

const gzip = promisify(gzipCallback);

export interface TileAnswer {
  status: 200 | 204 | 304;
  /** Names (lower case) and values in turn, as Node's raw header lists hold them. */
  headers: string[];
  body?: Buffer;
}

/**
 * The answer to a request for `tile`, or undefined when the client takes gzip and the tile
 * has not been compressed yet (`gzipTile` does it once per cached tile; the caller asks
 * again after). A tile answer is private to the bearer token that asked (it varies by
 * `Authorization`) unless it may not be kept at all; only answers with a body vary by
 * `Accept-Encoding`.
 */
export function answerTile(
  request: { headers: IncomingHttpHeaders },
  tile: CachedTile,
  maxAgeSeconds: number,
): TileAnswer | undefined {
  const cacheControl = cacheControlFor(request, maxAgeSeconds);
  const byToken = cacheControl === 'no-store' ? [] : ['Authorization'];
  const headers = ['cache-control', cacheControl, 'etag', tile.etag];
  const vary = (names: string[]) => (names.length > 0 ? ['vary', names.join(', ')] : []);
  const body = tile.body;
  // A 304 varies as the answer it stands for: with a body, by its encoding too.
  const varies = body ? vary(['Accept-Encoding', ...byToken]) : vary(byToken);
  if (matchesIfNoneMatch(request, tile.etag)) {
    return { status: 304, headers: [...headers, ...varies] };
  }
  if (!body) return { status: 204, headers: [...headers, ...varies] };
  headers.push('content-type', tile.contentType, ...varies);
  if (body.length < MIN_GZIP_BYTES || !acceptsGzip(encodingsOf(request.headers))) {
    return { status: 200, headers, body };
  }
  if (!tile.gzippedBody) return undefined;
  headers.push('content-encoding', 'gzip');
  return { status: 200, headers, body: tile.gzippedBody };
}

/** Compresses a tile's body once, off the event loop; later calls share the first. */
export function gzipTile(tile: CachedTile): Promise<Buffer> {
  if (!tile.body) return Promise.resolve(Buffer.alloc(0));
  const body = tile.body;
  tile.gzipped ??= gzip(body).then((gzipped) => (tile.gzippedBody = gzipped));
  return tile.gzipped;
}

/** Sends `tile` as `answerTile` decides, gzipping it first when the client takes gzip. */
export async function sendTileAnswer(
  request: { headers: IncomingHttpHeaders },
  reply: FastifyReply,
  tile: CachedTile,
  maxAgeSeconds: number,
): Promise<FastifyReply> {
  let answer = answerTile(request, tile, maxAgeSeconds);
  if (!answer) {
    // Compressed once per cached tile, not once per request; zlib runs off the event loop.
    await gzipTile(tile);
    answer = answerTile(request, tile, maxAgeSeconds)!;
  }
  const { headers } = answer;
  for (let i = 0; i < headers.length; i += 2) reply.header(headers[i]!, headers[i + 1]!);
  return reply.code(answer.status).send(answer.body);
}

function encodingsOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['accept-encoding'];
  return Array.isArray(value) ? value.join(', ') : value;
}
