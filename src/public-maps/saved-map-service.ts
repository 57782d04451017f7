import type { ConnectionRegistry } from '../connections/connection-registry.js';
import { ApiError, errors } from '../http/errors.js';
import type { TokenGrant } from '../tokens/api-token-record.js';
import { parseGrantSource } from '../tokens/grant-source.js';
import { checkMapReferences, readMapChanges, readNewMap } from './map-body.js';
import type { SavedMap, SavedMapStore, SavedMapSummary } from './saved-map-store.js';

/** The only error of this domain: a map that is missing, or not the caller's to see. */
export const mapNotFound = (id: string) =>
  new ApiError(404, 'map_not_found', `Map '${id.slice(0, 64)}' not found`);

/** Map ids are UUIDs; anything else names no map and is not worth a store read. */
const MAP_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export interface MapPage {
  data: SavedMapSummary[];
  meta: { total: number; page: number; pageSize: number };
}

function positiveInteger(value: unknown, name: string, max: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < 1 || number > max) {
    throw errors.invalidParameter(name, `an integer from 1 to ${max}`);
  }
  return number;
}

/** A map as fetchMap reads it; a public one carries the token its viewers read it with. */
export type SharedMap = SavedMap & { token?: string };

/** The tokens public maps hand their viewers (API access tokens limited to a map's datasets). */
export interface MapTokens {
  mapToken(accountId: string, mapId: string, grants: TokenGrant[]): Promise<string>;
  dropMapToken(mapId: string): Promise<void>;
}

/**
 * What a public map's token may read: each dataset's table, tileset, raster table or query
 * text, exactly (a raster is a table to grants: one grant reaches its TileJSON and blocks). A
 * source that reads as a pattern (`*`, `schema.*`) or as nothing a grant can name is left out:
 * the token never reads more than the map shows.
 */
function grantsOf(datasets: SavedMap['datasets']): TokenGrant[] {
  const grants: TokenGrant[] = [];
  for (const dataset of datasets) {
    let kind: string;
    try {
      kind = parseGrantSource(dataset.source, 'source').kind;
    } catch {
      continue;
    }
    const exact = dataset.type === 'query' ? kind === 'query' : kind === 'table';
    if (exact) grants.push({ connection_name: dataset.connectionName, source: dataset.source });
  }
  return grants;
}

/** The saved-map operations, shared by the HTTP routes and the CLI. */
export class SavedMapService {
  constructor(
    private readonly maps: SavedMapStore,
    /** Fills in each dataset's `providerId` from its connection; absent in the CLI. */
    private readonly connections?: ConnectionRegistry,
    /** Makes and revokes public maps' tokens; without it public maps answer no `token`. */
    private readonly tokens?: MapTokens,
  ) {}

  async create(accountId: string, body: unknown): Promise<SavedMap> {
    return this.maps.create(accountId, readNewMap(body));
  }

  /** A page of the account's maps; `query` may hold `page` and `pageSize` (strings). */
  async list(accountId: string, query: Record<string, unknown> = {}): Promise<MapPage> {
    const page = positiveInteger(query.page, 'page', 1_000_000) ?? 1;
    const pageSize =
      positiveInteger(query.pageSize, 'pageSize', MAX_PAGE_SIZE) ?? DEFAULT_PAGE_SIZE;
    const { data, total } = await this.maps.list(accountId, {
      limit: pageSize,
      offset: (page - 1) * pageSize,
    });
    return { data, meta: { total, page, pageSize } };
  }

  async get(accountId: string, id: string): Promise<SavedMap> {
    const map = MAP_ID_PATTERN.test(id) ? await this.maps.get(accountId, id) : undefined;
    if (!map) throw mapNotFound(id);
    return map;
  }

  async update(accountId: string, id: string, body: unknown): Promise<SavedMap> {
    const changes = readMapChanges(body);
    const updated = MAP_ID_PATTERN.test(id)
      ? await this.maps.update(accountId, id, changes, (merged) =>
          checkMapReferences(merged.datasets, merged.keplerMapConfig),
        )
      : undefined;
    if (!updated) throw mapNotFound(id);
    // A map made private stops its viewers' token at once; a public one's follows its datasets
    // from now on, not from its next read.
    if (updated.privacy !== 'public') await this.tokens?.dropMapToken(id);
    else await this.tokens?.mapToken(accountId, id, grantsOf(updated.datasets));
    return updated;
  }

  async remove(accountId: string, id: string): Promise<void> {
    const removed = MAP_ID_PATTERN.test(id) && (await this.maps.remove(accountId, id));
    if (!removed) throw mapNotFound(id);
    await this.tokens?.dropMapToken(id);
  }

  /**
   * The map as `fetchMap` reads it: a public map for anyone, a private one only for a caller
   * of its account. To everyone else a private map does not exist (404), so ids do not leak.
   */
  async readShared(id: string, callerAccountId: string | null): Promise<SharedMap> {
    const found = MAP_ID_PATTERN.test(id) ? await this.maps.find(id) : undefined;
    if (!found) throw mapNotFound(id);
    const { accountId, map } = found;
    if (map.privacy !== 'public' && callerAccountId !== accountId) throw mapNotFound(id);
    const datasets = await this.withProviders(accountId, map);
    if (map.privacy !== 'public' || !this.tokens) return { ...map, datasets };
    // fetchMap reads the datasets with this token rather than the viewer's (who may have none).
    const token = await this.tokens.mapToken(accountId, id, grantsOf(map.datasets));
    return { ...map, datasets, token };
  }

  /**
   * CARTO's answer names each dataset's warehouse (`providerId`); fetchMap uses it to compile
   * custom aggregations. Filled from the owner's connection where the map does not say; a
   * connection that no longer resolves is left for the dataset's own request to report.
   */
  private async withProviders(accountId: string, map: SavedMap) {
    const registry = this.connections;
    if (!registry) return map.datasets;
    return Promise.all(
      map.datasets.map(async (dataset) => {
        if (dataset.providerId) return dataset;
        const connection = await registry
          .resolve(accountId, dataset.connectionName)
          .catch(() => undefined);
        return connection ? { ...dataset, providerId: connection.provider } : dataset;
      }),
    );
  }
}
