import { beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { decodeMvt, tileUrl } from './support/tiles.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
let token = '';

beforeAll(async () => {
  token = await fetchToken(baseUrl, clientId, clientSecret);
});

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(path.startsWith('http') ? path : `${baseUrl}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
  });
  const text = await response.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body };
}

async function tileJsonFor(query: string) {
  const instantiation = await call(`/v3/maps/carto_dw/table?${query}`);
  expect(instantiation.status).toBe(200);
  const tilejson = await call(instantiation.body.tilejson.url[0]);
  expect(tilejson.status).toBe(200);
  return { instantiation: instantiation.body, tilejson: tilejson.body };
}

describe('Maps API instantiation and TileJSON', () => {
  it('answers the instantiation document with an absolute TileJSON URL and the schema', async () => {
    const { instantiation, tilejson } = await tileJsonFor('name=demo.countries');
    expect(instantiation.nrows).toBeGreaterThan(200);
    expect(instantiation.schema).toEqual(
      expect.arrayContaining([
        { name: 'name', type: 'string' },
        { name: 'geom', type: 'geometry' },
      ]),
    );
    const url = new URL(instantiation.tilejson.url[0]);
    expect(url.origin).toBe(baseUrl);
    expect(url.searchParams.get('format')).toBe('tilejson');
    expect(Number(url.searchParams.get('cache'))).toBeGreaterThan(0);

    expect(tilejson).toMatchObject({
      tilejson: '3.0.0',
      scheme: 'xyz',
      minzoom: 0,
      maxzoom: 22,
      tileResolution: 0.5,
    });
    expect(tilejson.tiles[0]).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/v3\/maps\/carto_dw\/table\/\{z\}\/\{x\}\/\{y\}\?/,
    );
    expect(tilejson.bounds[0]).toBeCloseTo(-180, 0);
    expect(tilejson.bounds[2]).toBeCloseTo(180, 0);
    expect(tilejson.vector_layers[0]).toMatchObject({ id: 'default', geometry_type: 'Polygon' });
    expect(tilejson.vector_layers[0].fields).toMatchObject({ name: 'String' });
    const layer = tilejson.tilestats.layers[0];
    expect(layer).toMatchObject({ layer: 'default', geometry: 'Polygon' });
    expect(layer.count).toBe(instantiation.nrows);
    const nameStats = layer.attributes.find((a: any) => a.attribute === 'name');
    expect(nameStats.type).toBe('String');
    expect(nameStats.categories.length).toBeGreaterThan(0);
  });

  it('computes numeric tilestats: min, max, sum and quantiles', async () => {
    const { tilejson } = await tileJsonFor('name=demo.populated_places&columns=name,population');
    const layer = tilejson.tilestats.layers[0];
    expect(layer.geometry).toBe('Point');
    expect(layer.attributes.map((a: any) => a.attribute)).toEqual(['name', 'population']);
    const population = layer.attributes[1];
    const sql = await call(
      `/v3/sql/carto_dw/query?q=${encodeURIComponent(
        'SELECT min(population)::float8 AS min, max(population)::float8 AS max, sum(population)::float8 AS sum FROM demo.populated_places',
      )}`,
    );
    const expected = sql.body.rows[0];
    expect(population).toMatchObject({ type: 'Number', min: expected.min, max: expected.max });
    expect(population.sum / expected.sum).toBeCloseTo(1, 9);
    expect(population.quantiles['4']).toHaveLength(3);
    expect(population.quantiles['20']).toHaveLength(19);
    expect(tilejson.fraction_dropped_per_zoom[0]).toBeGreaterThan(0);
    expect(tilejson.fraction_dropped_per_zoom.at(-1)).toBe(0);
  });

  it('honours POST with a JSON body like GET', async () => {
    const response = await call('/v3/maps/carto_dw/query', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        q: 'SELECT name, geom FROM demo.countries',
        spatialDataColumn: 'geom',
      }),
    });
    expect(response.status).toBe(200);
    expect(response.body.tilejson.url[0]).toContain('/v3/maps/carto_dw/query?');
  });

  it('honours spatialDataColumn, columns and tileResolution in tiles', async () => {
    const query = 'SELECT name AS label, geom AS shape, population FROM demo.populated_places';
    const instantiation = await call(
      `/v3/maps/carto_dw/query?q=${encodeURIComponent(query)}&spatialDataColumn=shape&columns=label&tileResolution=2&formatTiles=mvt`,
    );
    expect(instantiation.status).toBe(200);
    const tilejson = await call(instantiation.body.tilejson.url[0]);
    expect(tilejson.body.tileResolution).toBe(2);
    const tile = await fetch(tileUrl(tilejson.body.tiles[0], 8, 125, 96), {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(tile.status).toBe(200);
    const decoded = decodeMvt(await tile.arrayBuffer(), 8, 125, 96);
    expect(decoded.extent).toBe(2048);
    expect(Object.keys(decoded.features[0]!.properties)).toEqual(['label', '_carto_feature_id']);
  });

  it('answers 204 with cache headers for an empty tile, and 304 for a known ETag', async () => {
    const { tilejson } = await tileJsonFor('name=demo.countries&formatTiles=mvt');
    const empty = await call(tileUrl(tilejson.tiles[0], 6, 2, 30));
    expect(empty.status).toBe(204);
    expect(empty.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const full = await call(tileUrl(tilejson.tiles[0], 1, 0, 0));
    expect(full.status).toBe(200);
    const etag = full.headers.get('etag')!;
    const again = await call(tileUrl(tilejson.tiles[0], 1, 0, 0), {
      headers: { 'If-None-Match': etag },
    });
    expect(again.status).toBe(304);
    // Caches may send the tag weak, or in a list with others: still the same tile.
    const opaque = etag.replace(/^W\//, '');
    for (const header of [opaque, `W/${opaque}`, `"other", ${etag}`, '*']) {
      const conditional = await call(tileUrl(tilejson.tiles[0], 1, 0, 0), {
        headers: { 'If-None-Match': header },
      });
      expect(conditional.status, header).toBe(304);
    }
    const stale = await call(tileUrl(tilejson.tiles[0], 1, 0, 0), {
      headers: { 'If-None-Match': '"other"' },
    });
    expect(stale.status).toBe(200);
  });

  it('answers CORS preflights without a token and puts CORS headers on errors', async () => {
    const preflight = await fetch(`${baseUrl}/v3/maps/carto_dw/query`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type, cache-control',
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBeTruthy();
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    expect(preflight.headers.get('access-control-max-age')).toBeTruthy();
    const denied = await fetch(`${baseUrl}/v3/sql/carto_dw/query?q=SELECT+1`, {
      headers: { Origin: 'https://app.example', Authorization: 'Bearer nope' },
    });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBeTruthy();
  });
});

describe('Maps API bad input', () => {
  it('answers 404 naming an unknown table', async () => {
    const { status, body } = await call('/v3/maps/carto_dw/table?name=demo.nope');
    expect(status).toBe(404);
    expect(body.error).toBe("Table 'demo.nope' not found");
  });

  it('answers 404 for an unknown connection', async () => {
    const { status } = await call('/v3/maps/elsewhere/table?name=demo.countries');
    expect(status).toBe(404);
  });

  it('answers 400 when name or q is missing', async () => {
    expect((await call('/v3/maps/carto_dw/table')).body.error).toBe(
      "Missing required parameter 'name'",
    );
    expect((await call('/v3/maps/carto_dw/query')).status).toBe(400);
  });

  it('answers 400 carrying the warehouse message for a bad query source', async () => {
    const { status, body } = await call('/v3/maps/carto_dw/query?q=SELEC+geom');
    expect(status).toBe(400);
    expect(body.error).toContain('syntax error');
  });

  it('answers 400 for a missing spatial column, unknown columns and bad tileResolution', async () => {
    const geom = await call('/v3/maps/carto_dw/table?name=demo.countries&spatialDataColumn=nope');
    expect(geom.status).toBe(400);
    expect(geom.body.error).toMatch(/nope/);
    const column = await call('/v3/maps/carto_dw/table?name=demo.countries&columns=missing');
    expect(column.body).toMatchObject({ error: 'Column not found', column_name: 'missing' });
    for (const value of ['3', '0', '-1', 'abc']) {
      const bad = await call(`/v3/maps/carto_dw/table?name=demo.countries&tileResolution=${value}`);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatch(/tileResolution/);
    }
  });

  it('describes doubles too large to square: the TileJSON and the Stats API', async () => {
    const q =
      'SELECT v, ST_SetSRID(ST_MakePoint(0, 0), 4326) AS geom ' +
      'FROM unnest(ARRAY[1e155, 1, 2]::float8[]) AS v';
    const instantiation = await call(`/v3/maps/carto_dw/query?q=${encodeURIComponent(q)}`);
    expect(instantiation.status).toBe(200);
    const tilejson = await call(instantiation.body.tilejson.url[0]);
    const [attribute] = tilejson.body.tilestats.layers[0].attributes;
    expect(attribute).toMatchObject({ attribute: 'v', max: 1e155, min: 1 });
    expect(attribute.avg / (1e155 / 3)).toBeCloseTo(1, 12);
    const stats = await call(`/v3/stats/carto_dw/v?q=${encodeURIComponent(q)}`);
    expect(stats.status).toBe(200);
    expect(stats.body.avg / (1e155 / 3)).toBeCloseTo(1, 12);
  });

  it('answers 400 for a source type the Maps API does not have', async () => {
    const unknown = await call('/v3/maps/carto_dw/cube?name=demo.countries');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/'cube'/);
    const cell = await call('/v3/maps/carto_dw/boundary/8a2a1072b59ffff?name=demo.countries');
    expect(cell.status).toBe(400);
    expect(cell.body.error).toMatch(/boundary/);
  });

  it('applies CARTO filters to TileJSON and tiles, as widgets apply them', async () => {
    const filters = {
      country: { in: { values: ['ES'] } },
      population: { between: { values: [[1e6, null]] } },
    };
    const encoded = encodeURIComponent(JSON.stringify(filters));
    const query = `name=demo.populated_places&formatTiles=mvt&filters=${encoded}`;
    const { tilejson } = await tileJsonFor(query);
    const sql = await call(
      `/v3/sql/carto_dw/query?q=${encodeURIComponent(
        "SELECT name FROM demo.populated_places WHERE country = 'ES' AND population >= 1000000 " +
          'ORDER BY name',
      )}`,
    );
    const expected = sql.body.rows.map((r: { name: string }) => r.name);
    expect(expected.length).toBeGreaterThan(0);
    expect(tilejson.tilestats.layers[0].count).toBe(expected.length);
    expect(new URL(tilejson.tiles[0]).searchParams.get('filters')).toBe(JSON.stringify(filters));
    const tile = await fetch(tileUrl(tilejson.tiles[0], 0, 0, 0), {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(tile.status).toBe(200);
    const names = decodeMvt(await tile.arrayBuffer(), 0, 0, 0).features.map(
      (f) => f.properties.name,
    );
    expect(names.sort()).toEqual(expected);

    const widget = await call(
      `/v3/sql/carto_dw/model/formula?type=table&source=demo.populated_places` +
        `&params=${encodeURIComponent('{"operation":"count"}')}&filters=${encoded}`,
    );
    expect(widget.body.rows[0].value).toBe(expected.length);

    const missing = await call(
      '/v3/maps/carto_dw/table?name=demo.countries&filters=' +
        encodeURIComponent('{"nope":{"in":{"values":[1]}}}'),
    );
    expect(missing.body).toMatchObject({
      status: 400,
      error: 'Column not found',
      column_name: 'nope',
    });
  });

  it('offers geojson, json and ndjson data for small sources only', async () => {
    const filters = { country: { in: { values: ['AD'] } } };
    const encoded = encodeURIComponent(JSON.stringify(filters));
    const small = await call(
      '/v3/maps/carto_dw/table?name=demo.populated_places&columns=name,population' +
        `&filters=${encoded}`,
    );
    expect(small.status).toBe(200);
    const sql = await call(
      `/v3/sql/carto_dw/query?q=${encodeURIComponent(
        'SELECT name, population, ST_X(geom) AS x, ST_Y(geom) AS y FROM demo.populated_places ' +
          "WHERE country = 'AD' ORDER BY name",
      )}`,
    );
    const expected = sql.body.rows as { name: string; population: number; x: number; y: number }[];
    expect(expected.length).toBeGreaterThan(0);

    const geojson = await call(small.body.geojson.url[0]);
    expect(geojson.status).toBe(200);
    expect(geojson.headers.get('content-type')).toMatch(/^application\/geo\+json/);
    expect(geojson.body.type).toBe('FeatureCollection');
    const features = [...geojson.body.features].sort((a, b) =>
      a.properties.name < b.properties.name ? -1 : 1,
    );
    expect(features.map((f) => f.properties)).toEqual(
      expected.map(({ name, population }) => ({ name, population })),
    );
    expect(features[0].geometry).toEqual({
      type: 'Point',
      coordinates: [expected[0]!.x, expected[0]!.y],
    });

    const json = await call(small.body.json.url[0]);
    expect(json.body.rows).toHaveLength(expected.length);
    expect(json.body.rows[0]).toHaveProperty('geom.type', 'Point');
    const ndjson = await fetch(small.body.ndjson.url[0], {
      headers: { Authorization: `Bearer ${token}` },
    });
    const lines = (await ndjson.text()).trim().split('\n');
    expect(lines.map((line) => JSON.parse(line).name).sort()).toEqual(expected.map((r) => r.name));

    const large = await call('/v3/maps/carto_dw/table?name=demo.populated_places');
    expect(large.body.geojson).toBeUndefined();
    const refused = await call('/v3/maps/carto_dw/table?name=demo.populated_places&format=geojson');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/tilejson/);
    const unknown = await call('/v3/maps/carto_dw/table?name=demo.countries&format=kml');
    expect(unknown.status).toBe(400);
  });

  it("adds every feature's whole WGS84 bounding box with featureBbox=true", async () => {
    const { tilejson } = await tileJsonFor('name=demo.countries&formatTiles=mvt&featureBbox=true');
    expect(new URL(tilejson.tiles[0]).searchParams.get('featureBbox')).toBe('true');
    expect(tilejson.vector_layers[0].fields._carto_bbox).toBe('String');
    // Tile 1/1/0 holds the part of Russia east of Greenwich; the box is the whole country's.
    const tile = await fetch(tileUrl(tilejson.tiles[0], 1, 1, 0), {
      headers: { Authorization: `Bearer ${token}` },
    });
    const russia = decodeMvt(await tile.arrayBuffer(), 1, 1, 0).features.find(
      (f) => f.properties.name === 'Russia',
    );
    const sql = await call(
      `/v3/sql/carto_dw/query?q=${encodeURIComponent(
        'SELECT ST_XMin(geom) AS w, ST_YMin(geom) AS s, ST_XMax(geom) AS e, ST_YMax(geom) AS n ' +
          "FROM demo.countries WHERE name = 'Russia'",
      )}`,
    );
    const { w, s, e, n } = sql.body.rows[0];
    expect(String(russia?.properties._carto_bbox).split(',').map(Number)).toEqual([w, s, e, n]);

    const plain = await tileJsonFor('name=demo.countries&formatTiles=mvt');
    expect(plain.tilejson.vector_layers[0].fields._carto_bbox).toBeUndefined();
    const bad = await call('/v3/maps/carto_dw/table?name=demo.countries&featureBbox=yes');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/featureBbox/);
  });

  it('follows a source that changed after it was inspected, and 404s when it is gone', async () => {
    const table = `public.changing_${Date.now()}`;
    const sql = (q: string) =>
      call('/v3/sql/carto_dw/query', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ q }),
      });
    expect(
      (
        await sql(`CREATE TABLE ${table} AS SELECT 1 AS id, 'a' AS label,
          ST_SetSRID(ST_MakePoint(1, 1), 4326) AS geom`)
      ).status,
    ).toBe(200);
    const { tilejson } = await tileJsonFor(`name=${table}&formatTiles=mvt`);
    const tile = () => call(tileUrl(tilejson.tiles[0], 0, 0, 0));
    expect((await tile()).status).toBe(200);

    expect((await sql(`ALTER TABLE ${table} RENAME COLUMN label TO title`)).status).toBe(200);
    const renamed = await fetch(tileUrl(tilejson.tiles[0], 0, 0, 0), {
      headers: { Authorization: `Bearer ${token}`, 'Cache-Control': 'no-cache' },
    });
    // The tile is cached for its URL; a fresh data version proves the re-inspection.
    const fresh = tilejson.tiles[0].replace(/cache=\d+/, 'cache=1');
    const rebuilt = await fetch(tileUrl(fresh, 0, 0, 0), {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(renamed.status).toBe(200);
    expect(rebuilt.status).toBe(200);
    const feature = decodeMvt(await rebuilt.arrayBuffer(), 0, 0, 0).features[0];
    expect(feature?.properties.title).toBe('a');

    expect((await sql(`DROP TABLE ${table}`)).status).toBe(200);
    const instantiation = await call(`/v3/maps/carto_dw/table?name=${table}&formatTiles=mvt`);
    expect(instantiation.status).toBe(404);
    const gone = await call(tileUrl(tilejson.tiles[0].replace(/cache=\d+/, 'cache=2'), 0, 0, 0));
    expect(gone.status).toBe(404);
    expect(gone.body.error).toMatch(/not found/i);
  });

  it('draws features that reach past 180° on both sides of the antimeridian', async () => {
    const table = `public.pacific_${Date.now()}`;
    const created = await call('/v3/sql/carto_dw/query', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        q: `CREATE TABLE ${table} AS SELECT 'pacific' AS name,
              ST_MakeEnvelope(170, -10, 190, 10, 4326) AS geom`,
      }),
    });
    expect(created.status).toBe(200);
    const { tilejson } = await tileJsonFor(`name=${table}&formatTiles=mvt`);
    expect(tilejson.bounds[0]).toBe(-180);
    expect(tilejson.bounds[2]).toBe(180);
    const features = async (x: number) => {
      const response = await fetch(tileUrl(tilejson.tiles[0], 1, x, 0), {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
      return decodeMvt(await response.arrayBuffer(), 1, x, 0).features;
    };
    const [west] = await features(0);
    const [east] = await features(1);
    expect(west?.properties.name).toBe('pacific');
    expect(west?.properties._carto_feature_id).toBe(east?.properties._carto_feature_id);
    const lons = (f: typeof west) =>
      (f!.geometry.coordinates as number[][][]).flat().map((p) => p[0]!);
    expect(Math.min(...lons(west))).toBeCloseTo(-180, 0);
    expect(Math.max(...lons(west))).toBeCloseTo(-170, 0);
    expect(Math.min(...lons(east))).toBeCloseTo(170, 0);
  });

  it('answers 400, not 500, to JSON nested deeper than any request needs', async () => {
    // Built as text: the test's own JSON.stringify could not follow 5,000 levels either.
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const post = (path: string, body: string) =>
      call(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    const answers = [
      await post('/v3/maps/carto_dw/table', `{"name":"demo.countries","filters":${deep}}`),
      await post('/v3/sql/carto_dw/query', `{"q":"SELECT $1::text","queryParameters":[${deep}]}`),
      await post('/v3/maps', `{"title":"deep","datasets":[],"keplerMapConfig":${deep}}`),
      // Deep enough for the limit, short enough for a URL.
      await call(
        `/v3/maps/carto_dw/table?name=demo.countries&filters=${encodeURIComponent(
          `${'{"a":'.repeat(100)}1${'}'.repeat(100)}`,
        )}`,
      ),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatch(/nest/);
    }
  });

  it('marks cacheable answers as varying by Authorization', async () => {
    const headers = { Authorization: `Bearer ${token}`, 'Accept-Encoding': 'gzip' };
    const { tilejson } = await tileJsonFor('name=demo.populated_places');
    const urls = [
      `${baseUrl}/v3/maps/carto_dw/table?name=demo.populated_places`,
      `${baseUrl}/v3/maps/carto_dw/table?name=demo.populated_places&format=tilejson`,
      tileUrl(tilejson.tiles[0], 0, 0, 0),
      `${baseUrl}/v3/sql/carto_dw/query?q=${encodeURIComponent('SELECT 1 AS one')}`,
    ];
    for (const url of urls) {
      const response = await fetch(url, { headers });
      await response.arrayBuffer();
      expect(response.headers.get('cache-control'), url).toMatch(/max-age/);
      expect(response.headers.get('vary'), url).toMatch(/(^|, *)Authorization(,|$)/);
    }
    const post = await fetch(`${baseUrl}/v3/sql/carto_dw/query`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ q: 'SELECT 1 AS one' }),
    });
    await post.arrayBuffer();
    expect(post.headers.get('cache-control')).toBe('no-store');
    expect(post.headers.get('vary') ?? '').not.toMatch(/Authorization/);
  });

  it('answers 400 naming the coordinate for out-of-range or malformed tiles', async () => {
    const base = '/v3/maps/carto_dw/table';
    const query = '?name=demo.countries&formatTiles=mvt';
    for (const [zxy, name] of [
      ['0/1/0', 'x'],
      ['0/0/1', 'y'],
      ['3/8/0', 'x'],
      ['23/0/0', 'z'],
      ['9999/1/1', 'z'],
      ['3/1.5/2', 'x'],
      ['3/a/2', 'x'],
      ['-1/0/0', 'z'],
    ] as const) {
      const { status, body } = await call(`${base}/${zxy}${query}`);
      expect(status, zxy).toBe(400);
      expect(body.error, zxy).toContain(name);
    }
    expect((await call(`${base}/0/0/0${query}`)).status).toBe(200);
  });

  it('keeps identifiers exact and rejects a malicious column list', async () => {
    const evil = await call(
      `/v3/maps/carto_dw/table?name=demo.countries&columns=${encodeURIComponent('x"; DROP TABLE demo.countries; --')}`,
    );
    expect(evil.status).toBe(400);
    const still = await call('/v3/maps/carto_dw/table?name=demo.countries');
    expect(still.status).toBe(200);
  });
});
