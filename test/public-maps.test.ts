import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { query } from '@carto/api-client';
import { RasterTileLayer, VectorTileLayer, fetchMap } from '@deck.gl/carto';
import { bigIntToHex, tileToCell } from 'quadbin';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeCartoBinaryTile } from '../src/test-support/carto-binary-decoder.js';
import { fetchToken, sharedServer } from './support/api.js';
import { tileUrl } from './support/tiles.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
const dataDir = inject('dataDir');

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Runs the built `graticule` command on the shared server's data directory. Asynchronously:
 * a synchronous run blocks this process's event loop while the server drops idle keep-alive
 * sockets (after 5 s), and the next fetch then fails on a socket the server has closed.
 */
function runCli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'dist/main.js'), ...args],
      { cwd: ROOT, env: { ...process.env, GRATICULE_DATA_DIR: dataDir }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

const PLACES_SQL = 'SELECT name, population, geom FROM demo.populated_places WHERE population > $1';
const MILLION = 1_000_000;

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

async function call(
  method: string,
  route: string,
  options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const hasBody = options.body !== undefined || options.raw !== undefined;
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: {
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
      ...(hasBody ? { 'Content-Type': 'application/json' } : {}),
      ...options.headers,
    },
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : null,
  };
}

/** A map of the embedded demo data: countries coloured by name, big cities by population. */
function mapBody(overrides: Record<string, unknown> = {}) {
  const colors = { colors: ['#5A1846', '#900C3F', '#C70039', '#E3611C', '#F1920E', '#FFC300'] };
  return {
    title: 'World and big cities',
    description: 'Countries and every city of more than a million people',
    privacy: 'public',
    datasets: [
      {
        id: 'countries',
        type: 'table',
        source: 'demo.countries',
        connectionName: 'carto_dw',
        geoColumn: 'geom',
        columns: ['name', 'iso_n3'],
      },
      {
        id: 'places',
        type: 'query',
        source: PLACES_SQL,
        queryParameters: [MILLION],
        connectionName: 'carto_dw',
        geoColumn: 'geom',
      },
    ],
    keplerMapConfig: {
      version: 'v1',
      config: {
        mapState: { latitude: 40.4, longitude: -3.7, zoom: 3, bearing: 0, pitch: 0 },
        mapStyle: { styleType: 'positron' },
        visState: {
          layerBlending: 'normal',
          interactionConfig: { tooltip: { enabled: true, fieldsToShow: {} } },
          layers: [
            {
              id: 'countries-layer',
              type: 'mvt',
              config: {
                dataId: 'countries',
                label: 'Countries',
                isVisible: true,
                color: [40, 80, 160],
                visConfig: { opacity: 0.6, filled: true, colorRange: colors },
              },
              visualChannels: {
                colorField: { name: 'name', type: 'string' },
                colorScale: 'ordinal',
              },
            },
            {
              id: 'places-layer',
              type: 'mvt',
              config: {
                dataId: 'places',
                label: 'Big cities',
                isVisible: true,
                color: [200, 30, 30],
                visConfig: { opacity: 1, radius: 4, filled: true, colorRange: colors },
              },
              visualChannels: {
                colorField: { name: 'population', type: 'integer' },
                colorScale: 'quantile',
              },
            },
          ],
        },
      },
    },
    ...overrides,
  };
}

const RELIEF = 'demo.relief_raster';
/** Six greens to whites, as Builder saves a colour range. */
const RELIEF_COLORS = ['#1B5E20', '#43A047', '#A5D6A7', '#D7CCC8', '#8D6E63', '#FAFAFA'];

/** A raster layer of the `relief` dataset, as CARTO Builder saves one. */
function rasterLayer(id: string, visConfig: object, visualChannels: object = {}) {
  return {
    id,
    type: 'raster',
    config: {
      dataId: 'relief',
      label: id,
      isVisible: true,
      color: [30, 150, 190],
      visConfig: { opacity: 1, ...visConfig },
    },
    visualChannels,
  };
}

/**
 * The demo raster drawn twice: its elevation on a quantile colour range, and an RGB composite
 * of three band expressions that stay within 0 to 255.
 */
function rasterMapBody(layers?: unknown[]) {
  const base = mapBody();
  return {
    title: 'Relief of central Europe',
    datasets: [{ id: 'relief', type: 'raster', source: RELIEF, connectionName: 'carto_dw' }],
    keplerMapConfig: {
      version: 'v1',
      config: {
        ...base.keplerMapConfig.config,
        mapState: { latitude: 49.5, longitude: 12.5, zoom: 5, bearing: 0, pitch: 0 },
        visState: {
          ...base.keplerMapConfig.config.visState,
          layers: layers ?? [
            rasterLayer(
              'relief-layer',
              {
                rasterStyleType: 'ColorRange',
                colorRange: {
                  name: 'Relief',
                  type: 'sequential',
                  category: 'Custom',
                  colors: RELIEF_COLORS,
                },
              },
              { colorField: { name: 'elevation', type: 'number' }, colorScale: 'quantile' },
            ),
            rasterLayer('rgb-layer', {
              rasterStyleType: 'Rgb',
              colorBands: [
                { band: 'red', type: 'expression', value: 'elevation / 11' },
                { band: 'green', type: 'expression', value: 'landcover * 50' },
                { band: 'blue', type: 'expression', value: 'temperature + 60' },
              ],
            }),
          ],
        },
      },
    },
  };
}

interface DecodedBlock {
  blockSize: number;
  cells: { numericProps: Record<string, { value: ArrayLike<number> }> };
}

/** deck.gl's raster tile loader, from its dist (the package exports only its entry point). */
const rasterLoaderUrl = pathToFileURL(
  path.join(ROOT, 'node_modules/@deck.gl/carto/dist/layers/schema/carto-raster-tile-loader.js'),
).href;

let token = '';
let otherToken = '';
const created: string[] = [];

async function createMap(overrides: Record<string, unknown> = {}, as = token) {
  const reply = await call('POST', '/v3/maps', { token: as, body: mapBody(overrides) });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  created.push(reply.body.id);
  return reply.body as { id: string; updatedAt: string; createdAt: string };
}

beforeAll(async () => {
  token = await fetchToken(baseUrl, clientId, clientSecret);
  const second = await runCli(['accounts', 'create', '--name', 'Maps tenant', '--json']);
  expect(second.status, second.stderr).toBe(0);
  const account = JSON.parse(second.stdout) as { clientId: string; clientSecret: string };
  otherToken = await fetchToken(baseUrl, account.clientId, account.clientSecret);
});

afterAll(async () => {
  for (const id of created) await call('DELETE', `/v3/maps/${id}`, { token });
});

describe("CARTO's fetchMap against saved maps", () => {
  it('builds the saved layers, instantiates both sources and fills in their stats', async () => {
    const map = await createMap();

    const result = await fetchMap({ cartoMapId: map.id, apiBaseUrl: baseUrl, accessToken: token });

    expect(result.id).toBe(map.id);
    expect(result.title).toBe('World and big cities');
    expect(result.description).toBe('Countries and every city of more than a million people');
    expect(result.initialViewState).toMatchObject({ latitude: 40.4, longitude: -3.7, zoom: 3 });
    expect(result.basemap?.type).toBe('maplibre');
    // fetchMap lists layers top first, the reverse of Kepler's order.
    expect(result.layers.map((layer) => layer.id)).toEqual(['places-layer', 'countries-layer']);
    for (const layer of result.layers) expect(layer).toBeInstanceOf(VectorTileLayer);
    const [places, countries] = result.layers.map((layer) => layer.props.data as any);
    expect(countries.tilejson).toBe('3.0.0');
    expect(countries.tiles[0]).toMatch(
      new RegExp(`^${baseUrl}/v3/maps/carto_dw/table/\\{z\\}/\\{x\\}/\\{y\\}\\?.*demo\\.countries`),
    );
    expect(places.tiles[0]).toMatch(new RegExp(`^${baseUrl}/v3/maps/carto_dw/query/`));

    // The population attribute is what the Stats API answers for the query, not the TileJSON's.
    const stats = await call(
      'GET',
      `/v3/stats/carto_dw/population?${new URLSearchParams({
        q: PLACES_SQL,
        queryParameters: JSON.stringify([MILLION]),
      })}`,
      { token },
    );
    expect(stats.status).toBe(200);
    const attributes = places.tilestats.layers[0].attributes as { attribute: string }[];
    expect(attributes.find((a) => a.attribute === 'population')).toEqual(stats.body);
    expect(stats.body.min).toBeGreaterThan(MILLION);
  });

  it('builds H3 and quadbin layers whose sources serve spatial-index tiles', async () => {
    const cells = (id: string, kind: 'h3' | 'quadbin') => ({
      id,
      type: 'table',
      source: `demo.places_${kind}`,
      connectionName: 'carto_dw',
      geoColumn: `${kind}:${kind}`,
      aggregationExp: 'sum(population) AS population',
    });
    const layer = (id: string, type: string, dataId: string) => ({
      id,
      type,
      config: { dataId, label: id, isVisible: true, color: [20, 120, 60], visConfig: {} },
      visualChannels: {},
    });
    const base = mapBody();
    const map = await createMap({
      datasets: [cells('hexes', 'h3'), cells('squares', 'quadbin')],
      keplerMapConfig: {
        version: 'v1',
        config: {
          ...base.keplerMapConfig.config,
          visState: {
            ...base.keplerMapConfig.config.visState,
            layers: [
              layer('hex-layer', 'h3', 'hexes'),
              layer('square-layer', 'quadbin', 'squares'),
            ],
          },
        },
      },
    });

    const result = await fetchMap({ cartoMapId: map.id, apiBaseUrl: baseUrl, accessToken: token });
    const byId = new Map(result.layers.map((l) => [l.id, l.props.data as any]));
    const hexes = byId.get('hex-layer');
    const squares = byId.get('square-layer');
    expect(hexes.scheme).toBe('h3');
    expect(squares.scheme).toBe('quadbin');
    for (const [tilejson, index] of [
      [hexes, '8019fffffffffff'],
      [squares, '480fffffffffffff'],
    ] as const) {
      const response = await fetch(tilejson.tiles[0].replace('{i}', index), {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/vnd.carto-spatial-tile');
    }
  });

  it("serves tiles from the map's tile URLs that decode to the query's rows", async () => {
    const map = await createMap();
    const result = await fetchMap({ cartoMapId: map.id, apiBaseUrl: baseUrl, accessToken: token });
    const [places, countries] = result.layers.map((layer) => layer.props.data as any);
    const { rows } = await query({
      apiBaseUrl: baseUrl,
      accessToken: token,
      connectionName: 'carto_dw',
      sqlQuery: 'SELECT count(*)::int AS n FROM demo.populated_places WHERE population > $1',
      queryParameters: [MILLION],
    });

    const placesTile = await fetch(tileUrl(places.tiles[0], 0, 0, 0), {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(placesTile.status).toBe(200);
    expect(placesTile.headers.get('content-type')).toBe('application/vnd.carto-vector-tile');
    const decoded = decodeCartoBinaryTile(new Uint8Array(await placesTile.arrayBuffer()));
    expect(decoded.points.positions.length / 2).toBe((rows[0] as { n: number }).n);
    expect(decoded.points.properties.some((p) => p.name === 'Tokyo')).toBe(true);

    const countriesTile = await fetch(tileUrl(countries.tiles[0], 1, 0, 0), {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(countriesTile.status).toBe(200);
    const polygons = decodeCartoBinaryTile(new Uint8Array(await countriesTile.arrayBuffer()));
    expect(polygons.polygons.properties.some((p) => p.name === 'Canada')).toBe(true);
  });

  it("reads a private map with its owner's token and not with another account's", async () => {
    const map = await createMap({ privacy: 'private' });

    const result = await fetchMap({ cartoMapId: map.id, apiBaseUrl: baseUrl, accessToken: token });
    expect(result.layers).toHaveLength(2);

    await expect(
      fetchMap({ cartoMapId: map.id, apiBaseUrl: baseUrl, accessToken: otherToken }),
    ).rejects.toMatchObject({ responseJson: { code: 'map_not_found', status: 404 } });
  });
});

describe("A public map's token", () => {
  const tile = (template: string, z: number, x: number, y: number, as: string) =>
    fetch(tileUrl(template, z, x, y), { headers: { Authorization: `Bearer ${as}` } });

  it('lets a viewer without a token render the map, and reads nothing else', async () => {
    const map = await createMap();
    const shared = await call('GET', `/v3/maps/public/${map.id}`);
    expect(shared.status).toBe(200);
    const mapToken = shared.body.token as string;
    expect(typeof mapToken).toBe('string');
    // The same token on every read: it follows the map, not the request.
    expect((await call('GET', `/v3/maps/public/${map.id}`)).body.token).toBe(mapToken);

    const result = await fetchMap({ cartoMapId: map.id, apiBaseUrl: baseUrl });
    expect(result.layers).toHaveLength(2);
    const [places] = result.layers.map((layer) => layer.props.data as any);
    expect((await tile(places.tiles[0], 0, 0, 0, mapToken)).status).toBe(200);

    const elsewhere = await call('GET', '/v3/maps/carto_dw/table?name=demo.us_states', {
      token: mapToken,
    });
    expect(elsewhere.status).toBe(403);
    const sql = await call('GET', `/v3/sql/carto_dw/query?q=${encodeURIComponent('SELECT 1')}`, {
      token: mapToken,
    });
    expect(sql.status).toBe(403);
    // Not even the map's own query: the SQL API would run it outside read-only mode.
    const own = `/v3/sql/carto_dw/query?q=${encodeURIComponent(PLACES_SQL)}&queryParameters=[1]`;
    expect((await call('GET', own, { token: mapToken })).status).toBe(403);
    expect((await call('GET', '/v3/maps', { token: mapToken })).status).toBe(403);
  });

  it("follows a change of the map's datasets at once, and never grants a pattern", async () => {
    const map = await createMap();
    const mapToken = (await call('GET', `/v3/maps/public/${map.id}`)).body.token as string;
    const instantiate = (q: string) =>
      call('GET', `/v3/maps/carto_dw/query?q=${encodeURIComponent(q)}&queryParameters=[1]`, {
        token: mapToken,
      });
    expect((await instantiate(PLACES_SQL)).status).toBe(200);

    const changed = `${PLACES_SQL} AND population < 50000000`;
    const datasets = mapBody().datasets.map((dataset) =>
      dataset.id === 'places' ? { ...dataset, source: changed } : dataset,
    );
    const patched = await call('PATCH', `/v3/maps/${map.id}`, { token, body: { datasets } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    // No read of the public map in between: the change alone moved the grant.
    expect((await instantiate(PLACES_SQL)).status).toBe(403);
    expect((await instantiate(changed)).status).toBe(200);

    const wildcard = mapBody().datasets.map((dataset) =>
      dataset.id === 'countries' ? { ...dataset, source: '*' } : dataset,
    );
    const open = await call('PATCH', `/v3/maps/${map.id}`, {
      token,
      body: { datasets: wildcard },
    });
    expect(open.status, JSON.stringify(open.body)).toBe(200);
    const other = await call('GET', '/v3/maps/carto_dw/table?name=demo.us_states', {
      token: mapToken,
    });
    expect(other.status).toBe(403);
  });

  it('stops once the map is made private, and once it is deleted', async () => {
    const map = await createMap();
    const mapToken = (await call('GET', `/v3/maps/public/${map.id}`)).body.token as string;
    const result = await fetchMap({ cartoMapId: map.id, apiBaseUrl: baseUrl });
    const template = (result.layers[0]!.props.data as any).tiles[0] as string;
    expect((await tile(template, 0, 0, 0, mapToken)).status).toBe(200);

    const made = await call('PATCH', `/v3/maps/${map.id}`, { token, body: { privacy: 'private' } });
    expect(made.status).toBe(200);
    expect((await tile(template, 0, 0, 0, mapToken)).status).toBe(401);
    // Its owner reads the private map with their own token: no map token is handed out.
    expect((await call('GET', `/v3/maps/public/${map.id}`, { token })).body.token).toBeUndefined();

    await call('PATCH', `/v3/maps/${map.id}`, { token, body: { privacy: 'public' } });
    const again = (await call('GET', `/v3/maps/public/${map.id}`)).body.token as string;
    expect((await tile(template, 0, 0, 0, again)).status).toBe(200);
    expect((await call('DELETE', `/v3/maps/${map.id}`, { token })).status).toBe(204);
    expect((await tile(template, 0, 0, 0, again)).status).toBe(401);
  });
});

describe('A map of a raster dataset', () => {
  it('renders as RasterTileLayers whose blocks its token reads, coloured as saved', async () => {
    const { id } = await createMap(rasterMapBody());
    const shared = await call('GET', `/v3/maps/public/${id}`);
    const mapToken = shared.body.token as string;
    expect(shared.body.datasets[0]).toMatchObject({ type: 'raster', providerId: 'postgres' });

    const result = await fetchMap({ cartoMapId: id, apiBaseUrl: baseUrl });
    expect(result.layers.map((layer) => layer.id)).toEqual(['rgb-layer', 'relief-layer']);
    for (const layer of result.layers) expect(layer).toBeInstanceOf(RasterTileLayer);
    const data = result.layers[0]!.props.data as any;
    expect(data.accessToken).toBe(mapToken);
    expect(data.tiles[0]).toMatch(/\/v3\/maps\/carto_dw\/raster\/\{i\}\?name=demo\.relief_raster/);
    const metadata = data.raster_metadata;
    expect(metadata.bands.map((band: { name: string }) => band.name)).toEqual([
      'elevation',
      'landcover',
      'temperature',
    ]);

    // A block north-west of the Alps, half of it outside the raster (nodata there).
    const cell = bigIntToHex(tileToCell({ z: 5, x: 16, y: 10 }));
    const block = await fetch(data.tiles[0].replace('{i}', cell), {
      headers: { Authorization: `Bearer ${mapToken}` },
    });
    expect(block.status).toBe(200);
    expect(block.headers.get('content-type')).toBe('application/vnd.carto-raster-tile');
    const loader = ((await import(rasterLoaderUrl)) as { default: any }).default;
    const decoded = loader.parseSync(await block.arrayBuffer(), {
      cartoRasterTile: { metadata },
    }) as DecodedBlock;
    expect(decoded.blockSize).toBe(256);

    // Each layer colours the pixels through the transform fetchMap made of its saved style.
    const length = decoded.blockSize ** 2;
    const [rgb, relief] = result.layers.map(
      (layer) =>
        (layer.props as any).dataTransform({ data: decoded, length }).attributes
          .instanceFillColors as Uint8Array,
    );
    const bands = decoded.cells.numericProps;
    const elevation = bands.elevation!.value;
    const pixels = Array.from({ length }, (_, i) => i);
    const land = pixels.filter((i) => elevation[i] !== -9999);
    expect(land.length).toBeGreaterThan(1000);
    expect(land.length).toBeLessThan(length);
    const at = (colors: Uint8Array, i: number) => [...colors.slice(i * 4, i * 4 + 4)];
    for (const i of land.filter((_, n) => n % 97 === 0)) {
      expect(at(rgb!, i)).toEqual([
        Math.trunc(elevation[i]! / 11),
        bands.landcover!.value[i]! * 50,
        bands.temperature!.value[i]! + 60,
        255,
      ]);
    }
    const palette = new Set(
      RELIEF_COLORS.map((hex) => [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16)) + ''),
    );
    const used = new Set(land.map((i) => at(relief!, i).slice(0, 3) + ''));
    expect([...used].every((color) => palette.has(color))).toBe(true);
    expect(used.size).toBeGreaterThan(1);
    // Outside the raster the band is nodata: no colour. (The RGB composite takes a pixel as
    // empty only when every band it reads holds the raster's nodata, which these do not share.)
    const outside = pixels.find((i) => elevation[i] === -9999)!;
    expect(at(relief!, outside)[3]).toBe(0);
  });
});

describe('GET /v3/maps/public/{id}', () => {
  it('answers a public map without a token, cacheable for a short while', async () => {
    const map = await createMap();
    const reply = await call('GET', `/v3/maps/public/${map.id}`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ id: map.id, title: 'World and big cities' });
    expect(reply.body.keplerMapConfig).toEqual(mapBody().keplerMapConfig);
    // The provider is filled in from the connection, as CARTO's answer names it.
    expect(reply.body.datasets.map((d: any) => [d.id, d.providerId])).toEqual([
      ['countries', 'postgres'],
      ['places', 'postgres'],
    ]);
    expect(reply.headers.get('cache-control')).toBe('public, max-age=60');
    expect(reply.headers.get('last-modified')).toBe(new Date(map.updatedAt).toUTCString());
    expect(reply.headers.get('etag')).toMatch(/^"[\w-]+"$/);

    const other = await call('GET', `/v3/maps/public/${map.id}`, { token: otherToken });
    expect(other.status).toBe(200);
  });

  it('answers 304 to a current ETag or date, and 200 once the map changed', async () => {
    const map = await createMap();
    const first = await call('GET', `/v3/maps/public/${map.id}`);
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;

    const byTag = await call('GET', `/v3/maps/public/${map.id}`, {
      headers: { 'If-None-Match': etag },
    });
    expect(byTag.status).toBe(304);
    const byDate = await call('GET', `/v3/maps/public/${map.id}`, {
      headers: { 'If-Modified-Since': lastModified },
    });
    expect(byDate.status).toBe(304);
    const olderDate = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    const stale = await call('GET', `/v3/maps/public/${map.id}`, {
      headers: { 'If-Modified-Since': olderDate },
    });
    expect(stale.status).toBe(200);

    const patched = await call('PATCH', `/v3/maps/${map.id}`, { token, body: { title: 'New' } });
    expect(patched.status).toBe(200);
    const changed = await call('GET', `/v3/maps/public/${map.id}`, {
      headers: { 'If-None-Match': etag },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.title).toBe('New');
  });

  it('hides a private map from callers without its account (404), and never caches it shared', async () => {
    const map = await createMap({ privacy: 'private' });
    for (const as of [undefined, otherToken]) {
      const reply = await call('GET', `/v3/maps/public/${map.id}`, { token: as });
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({
        error: `Map '${map.id}' not found`,
        status: 404,
        code: 'map_not_found',
      });
    }
    const owner = await call('GET', `/v3/maps/public/${map.id}`, { token });
    expect(owner.status).toBe(200);
    expect(owner.headers.get('cache-control')).toBe('private, no-cache');
  });

  it('answers 404 for unknown ids and 401 for a bad token', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-map', 'table']) {
      const reply = await call('GET', `/v3/maps/public/${id}`);
      expect(reply.status).toBe(404);
      expect(reply.body.code).toBe('map_not_found');
    }
    const map = await createMap();
    const reply = await call('GET', `/v3/maps/public/${map.id}`, { token: 'not-a-jwt' });
    expect(reply.status).toBe(401);
    expect(reply.body.code).toBe('token_invalid');
  });
});

describe('Saved-map management API', () => {
  it('creates, lists, reads, changes and removes maps of the caller account', async () => {
    const map = await createMap({ privacy: undefined, description: undefined });
    const got = await call('GET', `/v3/maps/${map.id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: map.id, privacy: 'private', description: '' });
    expect(got.headers.get('cache-control')).toBe('no-store');

    const list = await call('GET', '/v3/maps?pageSize=1000', { token });
    expect(list.status).toBe(200);
    expect(list.body.meta.total).toBe(list.body.data.length);
    expect(list.body.data.map((m: any) => m.id)).toContain(map.id);
    expect(list.body.data[0]).not.toHaveProperty('keplerMapConfig');

    const patched = await call('PATCH', `/v3/maps/${map.id}`, {
      token,
      body: { title: 'Renamed', privacy: 'public' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ title: 'Renamed', privacy: 'public' });
    expect(Date.parse(patched.body.updatedAt)).toBeGreaterThan(Date.parse(map.updatedAt));
    expect((await call('GET', `/v3/maps/public/${map.id}`)).body.title).toBe('Renamed');

    expect((await call('DELETE', `/v3/maps/${map.id}`, { token })).status).toBe(204);
    expect((await call('GET', `/v3/maps/${map.id}`, { token })).status).toBe(404);
    expect((await call('GET', `/v3/maps/public/${map.id}`)).status).toBe(404);
  });

  it("answers another account's map as missing: 404 on read, change and removal", async () => {
    const map = await createMap({ privacy: 'public' });
    const notFound = { error: `Map '${map.id}' not found`, status: 404, code: 'map_not_found' };
    expect((await call('GET', `/v3/maps/${map.id}`, { token: otherToken })).body).toEqual(notFound);
    const patch = await call('PATCH', `/v3/maps/${map.id}`, {
      token: otherToken,
      body: { title: 'Taken' },
    });
    expect(patch.body).toEqual(notFound);
    expect((await call('DELETE', `/v3/maps/${map.id}`, { token: otherToken })).status).toBe(404);
    const theirs = await call('GET', '/v3/maps', { token: otherToken });
    expect(theirs.body.data.map((m: any) => m.id)).not.toContain(map.id);
    expect((await call('GET', `/v3/maps/${map.id}`, { token })).body.title).toBe(
      'World and big cities',
    );
  });

  it('requires a token', async () => {
    for (const [method, route] of [
      ['GET', '/v3/maps'],
      ['POST', '/v3/maps'],
      ['GET', '/v3/maps/00000000-0000-4000-8000-000000000000'],
      ['DELETE', '/v3/maps/00000000-0000-4000-8000-000000000000'],
    ] as const) {
      const reply = await call(method, route);
      expect(reply.status, `${method} ${route}`).toBe(401);
      expect(reply.body.code).toBe('token_missing');
    }
  });

  const base = mapBody();
  const layer0 = base.keplerMapConfig.config.visState.layers[0]!;
  const withLayer = (change: Record<string, unknown>) => ({
    keplerMapConfig: {
      ...base.keplerMapConfig,
      config: {
        ...base.keplerMapConfig.config,
        visState: { layers: [{ ...layer0, ...change }] },
      },
    },
  });
  const badBodies: [string, unknown, string, string][] = [
    ['an array', [mapBody()], 'malformed_body', 'expected a JSON object'],
    ['no title', { ...mapBody(), title: undefined }, 'missing_parameter', "'title'"],
    ['an unknown field', { ...mapBody(), owner: 'x' }, 'invalid_parameter', "'owner'"],
    [
      'an unknown dataset type',
      mapBody({ datasets: [{ ...base.datasets[0], type: 'image' }] }),
      'invalid_parameter',
      "'datasets[0].type': expected one of table, query, tileset, raster",
    ],
    [
      'a raster dataset with a geoColumn',
      mapBody({ datasets: [{ ...base.datasets[0], type: 'raster' }] }),
      'invalid_parameter',
      "'datasets[0].geoColumn': raster datasets take only a source and a connection",
    ],
    [
      'a raster layer without a style',
      rasterMapBody([rasterLayer('relief-layer', {})]),
      'missing_parameter',
      "'keplerMapConfig.config.visState.layers[0].config.visConfig.rasterStyleType'",
    ],
    [
      'an Rgb raster layer without colour bands',
      rasterMapBody([rasterLayer('relief-layer', { rasterStyleType: 'Rgb' })]),
      'missing_parameter',
      "'keplerMapConfig.config.visState.layers[0].config.visConfig.colorBands'",
    ],
    [
      'a colour-range raster layer without its band',
      rasterMapBody([
        rasterLayer(
          'relief-layer',
          { rasterStyleType: 'ColorRange', colorRange: { colors: RELIEF_COLORS } },
          { colorScale: 'quantile' },
        ),
      ]),
      'missing_parameter',
      "'keplerMapConfig.config.visState.layers[0].visualChannels.colorField'",
    ],
    [
      'a raster layer of a table dataset',
      {
        ...rasterMapBody(),
        datasets: [{ ...base.datasets[0], id: 'relief' }],
      },
      'invalid_parameter',
      "a raster layer draws a raster dataset, and 'relief' is a table dataset",
    ],
    [
      'an unknown dataset field',
      mapBody({ datasets: [{ ...base.datasets[0], label: 'x' }, base.datasets[1]] }),
      'invalid_parameter',
      "'datasets[0].label'",
    ],
    [
      'a dataset without a connection',
      mapBody({ datasets: [{ ...base.datasets[0], connectionName: undefined }] }),
      'missing_parameter',
      "'datasets[0].connectionName'",
    ],
    [
      'two datasets with one id',
      mapBody({ datasets: [base.datasets[0], { ...base.datasets[1], id: 'countries' }] }),
      'invalid_parameter',
      "'datasets[1].id'",
    ],
    [
      'query parameters on a table',
      mapBody({ datasets: [{ ...base.datasets[0], queryParameters: [1] }, base.datasets[1]] }),
      'invalid_parameter',
      'only query datasets',
    ],
    [
      'a geoColumn fetchMap cannot split',
      mapBody({ datasets: [{ ...base.datasets[0], geoColumn: 'foo:h3' }, base.datasets[1]] }),
      'invalid_parameter',
      "'datasets[0].geoColumn'",
    ],
    [
      'an aggregationExp that is no select list',
      mapBody({
        datasets: [{ ...base.datasets[0], aggregationExp: 'count(*) AS n; DROP TABLE x' }],
      }),
      'invalid_parameter',
      "'datasets[0].aggregationExp'",
    ],
    [
      'a layer of a missing dataset',
      mapBody(withLayer({ config: { ...layer0.config, dataId: 'nope' } })),
      'invalid_parameter',
      "no dataset has the id 'nope'",
    ],
    [
      'a layer type fetchMap cannot build',
      mapBody(withLayer({ type: 'geojson' })),
      'invalid_parameter',
      'layers[0].type',
    ],
    [
      'a Kepler version other than v1',
      mapBody({ keplerMapConfig: { ...base.keplerMapConfig, version: 'v2' } }),
      'invalid_parameter',
      "'keplerMapConfig.version'",
    ],
    ['an unknown privacy', mapBody({ privacy: 'friends' }), 'invalid_parameter', 'privacy'],
    [
      'a title of 300 characters',
      mapBody({ title: 'x'.repeat(300) }),
      'invalid_parameter',
      'title',
    ],
  ];

  it.each(badBodies)('rejects %s with 400', async (_name, body, code, message) => {
    const reply = await call('POST', '/v3/maps', { token, body });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ status: 400, code });
    expect(reply.body.error).toContain(message);
  });

  it('rejects bodies that are not JSON, empty patches and breaking patches with 400', async () => {
    const notJson = await call('POST', '/v3/maps', { token, raw: '{"title": ' });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ status: 400, error: expect.any(String) });

    const map = await createMap();
    const empty = await call('PATCH', `/v3/maps/${map.id}`, { token, body: {} });
    expect(empty.body).toMatchObject({ status: 400, code: 'malformed_body' });
    // Dropping a dataset a layer still uses would leave fetchMap a layer without data.
    const breaking = await call('PATCH', `/v3/maps/${map.id}`, {
      token,
      body: { datasets: [base.datasets[1]] },
    });
    expect(breaking.status).toBe(400);
    expect(breaking.body.error).toContain("no dataset has the id 'countries'");
    const unchanged = await call('GET', `/v3/maps/${map.id}`, { token });
    expect(unchanged.body.datasets).toHaveLength(2);
    expect(unchanged.body.updatedAt).toBe(map.updatedAt);

    const badPage = await call('GET', '/v3/maps?pageSize=0', { token });
    expect(badPage.body).toMatchObject({ status: 400, code: 'invalid_parameter' });
  });

  it('rejects a body over the size limit with 413', async () => {
    const reply = await call('POST', '/v3/maps', {
      token,
      body: mapBody({ description: 'x'.repeat(4 * 1024 * 1024 + 1) }),
    });
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({ status: 413, code: 'body_too_large' });
  });

  it('keeps the connection name public for saved maps', async () => {
    const reply = await call('POST', '/v3/connections', {
      token,
      body: {
        name: 'public',
        provider_id: 'postgres',
        config: { host: '127.0.0.1', database: 'x', username: 'u', password: 'p' },
      },
    });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ code: 'invalid_parameter' });
    expect(reply.body.error).toContain("'public' is reserved");
  });
});

describe('graticule maps', () => {
  let workDir = '';
  beforeAll(() => {
    workDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-maps-cli-'));
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('creates a map from a file that fetchMap then reads, lists it and removes it', async () => {
    const file = path.join(workDir, 'map.json');
    writeFileSync(file, JSON.stringify(mapBody({ title: 'From the command line' })));

    const create = await runCli(['maps', 'create', '--file', file, '--json']);
    expect(create.status, create.stderr).toBe(0);
    const { id } = JSON.parse(create.stdout) as { id: string };
    created.push(id);
    const result = await fetchMap({ cartoMapId: id, apiBaseUrl: baseUrl, accessToken: token });
    expect(result.title).toBe('From the command line');
    expect(result.layers).toHaveLength(2);

    const list = await runCli(['maps', 'list', '--json']);
    expect(list.status, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { data: { id: string }[] }).data.map((m) => m.id)).toContain(
      id,
    );
    const table = await runCli(['maps', 'list']);
    expect(table.stdout).toMatch(new RegExp(`^${id}\\s+From the command line\\s+public`, 'm'));

    const mapToken = (await call('GET', `/v3/maps/public/${id}`)).body.token as string;
    const tile = () =>
      call('GET', '/v3/maps/carto_dw/table?name=demo.countries', { token: mapToken });
    expect((await tile()).status).toBe(200);

    const remove = await runCli(['maps', 'remove', id]);
    expect(remove.status, remove.stderr).toBe(0);
    expect(remove.stdout).toBe(`Map ${id} removed.\n`);
    expect((await call('GET', `/v3/maps/public/${id}`)).status).toBe(404);
    // Its token goes with it: the server trusts a token record for two seconds at most.
    const deadline = Date.now() + 10_000;
    let status = (await tile()).status;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = (await tile()).status;
    }
    expect(status).toBe(401);
  });

  it('fails with one line and a non-zero status on bad input', async () => {
    const notJson = path.join(workDir, 'broken.json');
    writeFileSync(notJson, '{"title": ');
    const invalid = path.join(workDir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ title: 'No datasets' }));
    const cases: [string[], RegExp][] = [
      [['maps', 'create', '--file', path.join(workDir, 'missing.json')], /cannot read .*ENOENT/],
      [['maps', 'create', '--file', notJson], /broken\.json is not JSON/],
      [['maps', 'create', '--file', invalid], /Missing required parameter 'datasets'/],
      [['maps', 'remove', '00000000-0000-4000-8000-000000000000'], /not found/],
      [['maps', 'list', '--account', 'ac_nobody'], /no account 'ac_nobody'/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    for (const [index, [args, message]] of cases.entries()) {
      const run = runs[index]!;
      expect(run.status, args.join(' ')).toBe(1);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(message);
    }
  });
});
