import type { IncomingMessage } from 'node:http';
import type { TokenService } from '../auth/token-service.js';
import type { Config } from '../config/config.js';
import type { ConnectionRegistry } from '../connections/connection-registry.js';
import type { FastPath } from '../http/fast-path.js';
import type { Metrics } from '../http/metrics.js';
import { bearerTokenOf } from '../http/principal.js';
import type { TieredTileCache } from './shared-tile-cache.js';
import type { SourceCache } from './source-cache.js';
import { queryStringOf, type ParsedSources } from './parsed-sources.js';
import { answerTile } from './tile-answer.js';
import { parseTileCoordinates } from './tile-coordinates.js';
import { dataVersion, vectorTileKey } from './tile-keys.js';

/** `/v3/maps/{connection}/{table|query}/{z}/{x}/{y}` with a connection name as CARTO spells it. */
const TILE_PATH =
  /^\/v3\/maps\/([a-z0-9_-]{1,64})\/(table|query)\/(\d{1,2})\/(\d{1,10})\/(\d{1,10})$/;

export interface CachedTileDependencies {
  config: Pick<Config, 'tileMaxAgeSeconds'>;
  tokens: Pick<TokenService, 'peekAccount'>;
  connections: Pick<ConnectionRegistry, 'peek'>;
  sources: Pick<SourceCache, 'peek'>;
  tiles: Pick<TieredTileCache, 'peek'>;
  parsedSources: ParsedSources;
  metrics?: Pick<Metrics, 'observeTile'>;
}

/**
 * Vector tiles this node holds in memory, answered without the HTTP application. Every check
 * of the full path still runs, from what this node has already established: the bearer token
 * verified lately and admitted by the identity directory as it stands now (an OAuth token;
 * API access tokens, whose grants and referers are checked per request, take the full path),
 * the connection resolved for the token's account within the last second, the source
 * inspected, the tile cached under the same key. When any of these is not at hand, or the
 * request is anything but a plain GET of such a tile, the full path answers it instead.
 */
export function cachedTilePath(deps: CachedTileDependencies): FastPath {
  return (request: IncomingMessage, respond) => {
    const url = request.url ?? '';
    const queryAt = url.indexOf('?');
    const match = TILE_PATH.exec(queryAt < 0 ? url : url.slice(0, queryAt));
    if (!match) return false;
    const [, name, type, z, x, y] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const token = bearerTokenOf(request.headers.authorization);
    const accountId = token === undefined ? undefined : deps.tokens.peekAccount(token);
    if (accountId === undefined) return false;
    const connection = deps.connections.peek(accountId, name);
    if (!connection) return false;

    const parsed = deps.parsedSources.fromQuery(name, type, queryStringOf(url));
    const { params, source } = parsed;
    const key = parsed.keyOn(connection.cacheKey);
    const inspection = deps.sources.peek(key);
    if (!inspection || inspection.spatialIndex) return false;
    const tile = parseTileCoordinates({ z, x, y });
    const cached = deps.tiles.peek(
      vectorTileKey(key, source, dataVersion(params, inspection), tile.z, tile.x, tile.y),
    );
    if (!cached) return false;
    const answer = answerTile(request, cached, deps.config.tileMaxAgeSeconds);
    // A client that takes gzip waits for the route to compress the tile the first time.
    if (!answer) return false;
    deps.metrics?.observeTile(true);
    return respond(answer);
  };
}
