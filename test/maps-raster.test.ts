/**
 * Raster sources end to end: CARTO's own `rasterSource` instantiates raster tables on the
 * embedded warehouse (the demo raster, gzip-compressed, RaQuet's metadata; a table in
 * raster-loader's layout written here) and on PostgreSQL (one `graticule rasters create`
 * builds from a PostGIS raster); blocks are fetched with the bearer token as deck.gl's
 * `RasterTileLayer` fetches them and decoded with deck.gl's own `CartoRasterTileLoader`.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { rasterSource } from '@carto/api-client';
import { bigIntToHex, tileToCell } from 'quadbin';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { runCliAsync } from './support/cli-async.js';
import { createPostgresConnection } from './support/postgres-demo.js';
import { describeWithPostgres, runAsSuperuser } from './support/postgres.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
const dataDir = inject('dataDir');
const suffix = randomBytes(3).toString('hex');
const DEMO = 'demo.relief_raster';
const HALF_WORLD = 20037508.342789244;

interface DecodedRaster {
  blockSize: number;
  cells: { numericProps: Record<string, { value: ArrayLike<number> }> };
}

/** deck.gl's loader, from its dist (the package exports only its entry point). */
const loaderUrl = pathToFileURL(
  path.resolve(
    import.meta.dirname,
    '../node_modules/@deck.gl/carto/dist/layers/schema/carto-raster-tile-loader.js',
  ),
).href;
let loader: { parseSync: (data: ArrayBuffer, options: object) => DecodedRaster | null };
let token = '';

beforeAll(async () => {
  loader = ((await import(loaderUrl)) as { default: typeof loader }).default;
  token = await fetchToken(baseUrl, clientId, clientSecret);
});

const cellHex = (z: number, x: number, y: number) => bigIntToHex(tileToCell({ z, x, y }));

async function call(url: string, init: RequestInit & { bearer?: string } = {}) {
  const headers = {
    Authorization: `Bearer ${init.bearer ?? token}`,
    ...(init.body ? { 'Content-Type': 'application/json' } : {}),
    ...(init.headers as Record<string, string> | undefined),
  };
  const response = await fetch(url.startsWith('http') ? url : `${baseUrl}${url}`, {
    ...init,
    headers,
  });
  const body = await response.arrayBuffer();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    headers: response.headers,
    body,
    json: type.startsWith('application/json')
      ? (JSON.parse(Buffer.from(body).toString('utf8')) as any)
      : undefined,
  };
}

async function sql(connection: string, q: string) {
  const answer = await call(`/v3/sql/${connection}/query`, {
    method: 'POST',
    body: JSON.stringify({ q }),
  });
  if (answer.status !== 200)
    throw new Error(`SQL ${answer.status}: ${JSON.stringify(answer.json)}`);
  return answer.json.rows as Record<string, any>[];
}

/** A block as the layer fetches it (bearer header, the template's `{i}`), decoded by deck.gl. */
async function fetchBlock(tiles: string[], metadata: unknown, cell: string, bearer = token) {
  const answer = await call(tiles[0]!.replace('{i}', cell), { bearer });
  const decoded =
    answer.status === 200 ? loader.parseSync(answer.body, { cartoRasterTile: { metadata } }) : null;
  return { ...answer, decoded };
}

/** Stored band bytes as the typed values they hold. */
function typedValues(type: string, bytes: Buffer): ArrayLike<number> {
  const copy = new Uint8Array(bytes).buffer;
  const types: Record<string, new (buffer: ArrayBuffer) => ArrayLike<number>> = {
    uint8: Uint8Array,
    uint16: Uint16Array,
    int16: Int16Array,
    int32: Int32Array,
    float32: Float32Array,
    float64: Float64Array,
  };
  return new types[type]!(copy);
}

describe('the demo raster on carto_dw (gzip, RaQuet metadata)', () => {
  let source: Awaited<ReturnType<typeof rasterSource>>;

  beforeAll(async () => {
    source = await rasterSource({
      apiBaseUrl: baseUrl,
      accessToken: token,
      connectionName: 'carto_dw',
      tableName: DEMO,
    });
  });

  it('is instantiated by rasterSource with the raster_metadata clients read', () => {
    expect(source.scheme).toBe('quadbin');
    expect(source.tiles[0]).toMatch(/\/v3\/maps\/carto_dw\/raster\/\{i\}\?name=demo\.relief/);
    expect(source.bounds).toEqual([5, 44, 20, 55]);
    expect([source.minzoom, source.maxzoom]).toEqual([3, 5]);
    expect(source.raster_metadata).toMatchObject({
      block_resolution: 5,
      minresolution: 3,
      maxresolution: 5,
      block_width: 256,
      block_height: 256,
      pixel_resolution: 13,
      compression: 'gzip',
      num_blocks: 4,
    });
    const bands = source.raster_metadata!.bands;
    expect(bands.map((band) => [band.name, band.type, band.nodata])).toEqual([
      ['elevation', 'float32', -9999],
      ['landcover', 'uint8', 0],
      ['temperature', 'int16', -32768],
    ]);
    expect(bands[1]!.colortable?.['5']).toEqual([250, 250, 250, 255]);
    const elevation = bands[0]!.stats;
    expect(elevation.min).toBeGreaterThan(0);
    expect(elevation.max).toBeGreaterThan(2000);
    expect(elevation.quantiles?.[5]).toHaveLength(4);
    expect(source.widgetSource.constructor.name).toBe('WidgetRasterSource');
  });

  it("answers a band's statistics from the metadata, as fetchMap asks them", async () => {
    const stats = await call(`/v3/stats/carto_dw/${DEMO}/elevation`);
    expect(stats.status).toBe(200);
    const elevation = source.raster_metadata!.bands[0]!.stats;
    expect(stats.json).toMatchObject({
      attribute: 'elevation',
      type: 'Number',
      min: elevation.min,
      max: elevation.max,
    });
    // The bytes of a column that is no band are not listed as categories.
    const blocks = await call(
      `/v3/stats/carto_dw/elevation?q=${encodeURIComponent(`SELECT elevation FROM ${DEMO}`)}`,
    );
    expect(blocks.status).toBe(200);
    expect(blocks.json.categories).toBeUndefined();
    expect(blocks.body.byteLength).toBeLessThan(200);
  });

  it('serves blocks decoded to the bytes stored, nodata outside the bounds', async () => {
    const cell = tileToCell({ z: 5, x: 16, y: 10 });
    const block = await fetchBlock(source.tiles, source.raster_metadata, bigIntToHex(cell));
    expect(block.status).toBe(200);
    expect(block.headers.get('content-type')).toBe('application/vnd.carto-raster-tile');
    const decoded = block.decoded!;
    expect(decoded.blockSize).toBe(256);
    const [stored] = await sql(
      'carto_dw',
      `SELECT encode(elevation, 'base64') AS elevation, encode(landcover, 'base64') AS landcover,
              encode(temperature, 'base64') AS temperature
         FROM ${DEMO} WHERE block = ${cell.toString()}`,
    );
    for (const [name, type] of [
      ['elevation', 'float32'],
      ['landcover', 'uint8'],
      ['temperature', 'int16'],
    ] as const) {
      const written = typedValues(type, gunzipSync(Buffer.from(stored![name], 'base64')));
      expect(Array.from(decoded.cells.numericProps[name]!.value), name).toEqual(
        Array.from(written),
      );
    }
    // Column 0 lies at 0° E, west of the data's 5° E: nodata in every band.
    const middleRow = 128 * 256;
    const props = decoded.cells.numericProps;
    expect(
      [0, 1, 2].map((b) => props[['elevation', 'landcover', 'temperature'][b]!]!.value[middleRow]),
    ).toEqual([-9999, 0, -32768]);
    // Within the data, the classes follow the elevation.
    const east = middleRow + 255;
    const elevation = props.elevation!.value[east]!;
    const expectedClass = [300, 800, 1500, 2200].findIndex((top) => elevation < top) + 1 || 5;
    expect(props.landcover!.value[east]).toBe(expectedClass);
  });

  it('answers 304 to a current ETag, 204 where no block is, and caches for a year', async () => {
    const url = source.tiles[0]!.replace('{i}', cellHex(4, 8, 5));
    const first = await call(url);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toMatch(/max-age=31536000/);
    const etag = first.headers.get('etag')!;
    const again = await call(url, { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);

    const farAway = await call(source.tiles[0]!.replace('{i}', cellHex(5, 0, 0)));
    expect(farAway.status).toBe(204);
    expect(farAway.body.byteLength).toBe(0);
    const coarser = await call(source.tiles[0]!.replace('{i}', cellHex(2, 2, 1)));
    expect(coarser.status).toBe(204);
  });

  it('answers bad input with a 4xx JSON error, never a 500', async () => {
    const cases: [string, RequestInit, number, string][] = [
      ['/v3/maps/carto_dw/raster', {}, 400, 'missing_parameter'],
      ['/v3/maps/carto_dw/raster?name=demo.countries', {}, 404, 'not_a_raster'],
      [`/v3/maps/carto_dw/raster?name=public.no_such_raster_${suffix}`, {}, 404, 'table_not_found'],
      [`/v3/maps/carto_dw/raster?name=${DEMO}&format=geojson`, {}, 400, 'invalid_parameter'],
      [`/v3/maps/carto_dw/raster?name=${DEMO}&filters=%7Bnot%20json`, {}, 400, 'invalid_parameter'],
      [`/v3/maps/carto_dw/raster/zz?name=${DEMO}`, {}, 400, 'invalid_parameter'],
      [`/v3/maps/carto_dw/raster/1234?name=${DEMO}`, {}, 400, 'invalid_parameter'],
      [`/v3/maps/carto_dw/raster/${cellHex(6, 33, 21)}?name=${DEMO}`, {}, 400, 'invalid_parameter'],
      [
        `/v3/maps/carto_dw/raster/${cellHex(5, 16, 10)}?name=demo.countries`,
        {},
        404,
        'not_a_raster',
      ],
      [`/v3/maps/carto_dw/raster/${cellHex(5, 16, 10)}`, {}, 400, 'missing_parameter'],
    ];
    for (const [url, init, status, code] of cases) {
      const answer = await call(url, init);
      expect(answer.status, url).toBe(status);
      expect(answer.json, url).toMatchObject({ status, code, error: expect.any(String) });
    }
  });

  it('takes the parameters as a JSON body too, filters included', async () => {
    const answer = await call('/v3/maps/carto_dw/raster', {
      method: 'POST',
      body: JSON.stringify({
        name: DEMO,
        format: 'tilejson',
        filters: { landcover: { in: { values: [1] } } },
      }),
    });
    expect(answer.status).toBe(200);
    expect(answer.json.raster_metadata.bands).toHaveLength(3);
    expect(answer.json.tiles).toEqual(source.tiles);
  });
});

describe("a table in raster-loader's layout on carto_dw (uncompressed)", () => {
  const table = `public.loader_raster_${suffix}`;
  const cell = tileToCell({ z: 10, x: 512, y: 380 });
  const brokenCell = tileToCell({ z: 10, x: 513, y: 380 });
  const size = 64;
  const counts = Array.from({ length: size * size }, (_, i) => (i * 7) % 65536);
  const ratios = Array.from({ length: size * size }, (_, i) => i / 3);
  const flatMetadata = {
    bands: [
      {
        type: 'uint16',
        name: 'band_1',
        nodata: '65535',
        colorinterp: 'gray',
        colortable: null,
        stats: {
          min: 0,
          max: 28665,
          mean: 14332,
          stddev: 8276,
          sum: 1,
          sum_squares: 1,
          count: 4096,
        },
      },
      {
        type: 'float64',
        name: 'band_2',
        nodata: null,
        colorinterp: 'undefined',
        colortable: null,
        stats: { min: 0, max: 1365, mean: 682.5, stddev: 394, sum: 1, sum_squares: 1, count: 4096 },
      },
    ],
    block_resolution: 10,
    minresolution: 10,
    maxresolution: 10,
    nodata: null,
    bounds: [0, 40.9799, 0.3515, 41.2446],
    center: [0.17, 41.1, 10],
    width: size,
    height: size,
    block_width: size,
    block_height: size,
    num_blocks: 1,
    num_pixels: size * size,
    pixel_resolution: 16,
  };

  beforeAll(async () => {
    const base64 = (array: ArrayBufferView) =>
      Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
    await sql('carto_dw', `DROP TABLE IF EXISTS ${table}`);
    await sql(
      'carto_dw',
      `CREATE TABLE ${table} AS
       SELECT 0::bigint AS block, '${JSON.stringify(flatMetadata)}'::text AS metadata,
              NULL::bytea AS band_1, NULL::bytea AS band_2
       UNION ALL
       SELECT ${cell.toString()}, NULL,
              decode('${base64(Uint16Array.from(counts))}', 'base64'),
              decode('${base64(Float64Array.from(ratios))}', 'base64')
       UNION ALL
       SELECT ${brokenCell.toString()}, NULL, '\\x010203'::bytea,
              decode('${base64(Float64Array.from(ratios))}', 'base64')`,
    );
  });

  it('answers 422 for a block whose band bytes cannot be its pixels', async () => {
    const tilejson = (await call(`/v3/maps/carto_dw/raster?name=${table}&format=tilejson`)).json;
    const answer = await call(tilejson.tiles[0].replace('{i}', bigIntToHex(brokenCell)));
    expect(answer.status).toBe(422);
    expect(answer.json).toMatchObject({ status: 422, code: 'raster_block_invalid' });
    expect(answer.json.error).toMatch(/band_1 .* holds 3 bytes, not 8192/);
  });

  it('serves the written values to deck.gl, with the metadata as written', async () => {
    const source = await rasterSource({
      apiBaseUrl: baseUrl,
      accessToken: token,
      connectionName: 'carto_dw',
      tableName: table,
    });
    expect(source.raster_metadata).toMatchObject({
      block_resolution: 10,
      block_width: size,
      compression: null,
      nodata: 'nan',
    });
    expect(source.raster_metadata!.bands[0]).toMatchObject({
      nodata: '65535',
      stats: { max: 28665 },
    });
    const block = await fetchBlock(source.tiles, source.raster_metadata, bigIntToHex(cell));
    expect(block.status).toBe(200);
    expect(block.decoded!.blockSize).toBe(size);
    expect(Array.from(block.decoded!.cells.numericProps.band_1!.value)).toEqual(counts);
    expect(Array.from(block.decoded!.cells.numericProps.band_2!.value)).toEqual(ratios);
  });
});

describe('API access tokens', () => {
  async function apiToken(source: string) {
    const answer = await call('/v3/tokens', {
      method: 'POST',
      body: JSON.stringify({
        grants: [{ connection_name: 'carto_dw', source }],
        allowed_apis: ['maps'],
      }),
    });
    expect(answer.status, JSON.stringify(answer.json)).toBe(201);
    return answer.json.token as string;
  }

  it('lets a token granted the raster read it, and refuses others with 403', async () => {
    const granted = await apiToken(DEMO);
    const source = await rasterSource({
      apiBaseUrl: baseUrl,
      accessToken: granted,
      connectionName: 'carto_dw',
      tableName: DEMO,
    });
    const block = await fetchBlock(source.tiles, source.raster_metadata, cellHex(3, 4, 2), granted);
    expect(block.status).toBe(200);
    expect(block.decoded!.cells.numericProps.elevation!.value).toHaveLength(256 * 256);

    const other = await apiToken('demo.populated_places');
    const refused = [
      await call(`/v3/maps/carto_dw/raster?name=${DEMO}`, { bearer: other }),
      await call(source.tiles[0]!.replace('{i}', cellHex(3, 4, 2)), { bearer: other }),
    ];
    for (const answer of refused) {
      expect(answer.status).toBe(403);
      expect(answer.json).toMatchObject({ status: 403, code: 'forbidden' });
    }
  });
});

describeWithPostgres('graticule rasters create from a PostGIS raster', (info) => {
  const schema = `rasters_${suffix}`;
  const connection = `pg_raster_${suffix}`;
  let created: { status: number; stdout: string; stderr: string };

  beforeAll(async () => {
    await runAsSuperuser(
      info,
      `CREATE EXTENSION IF NOT EXISTS postgis_raster;
       CREATE SCHEMA ${schema} AUTHORIZATION ${info.username};
       CREATE TABLE ${schema}.dem AS
       SELECT 1 AS rid, ST_AddBand(
         ST_MapAlgebra(ST_AddBand(grid, '32BSI'::text, 0, NULL), 1, '32BSI',
                       '[rast.x] * 1000 + [rast.y]'),
         ST_MapAlgebra(ST_AddBand(grid, '32BF'::text, 0, NULL), 1, '32BF',
                       '[rast.x] / 10.0 + [rast.y] / 7.0')
       ) AS rast
         FROM (SELECT ST_MakeEmptyRaster(100, 60, -4.0, 42.0, 0.02, -0.02, 0, 0, 4326) AS grid)
              AS empty;
       GRANT SELECT ON ${schema}.dem TO ${info.username};`,
    );
    await createPostgresConnection(baseUrl, token, info, connection);
    created = await runCliAsync(
      [
        'rasters',
        'create',
        `${schema}.dem_raster`,
        '--connection',
        connection,
        '--table',
        `${schema}.dem`,
        '--resolution',
        '6',
        '--min-resolution',
        '5',
        '--json',
      ],
      { dataDir },
    );
  });

  it('writes blocks at the native resolution and overviews, uncompressed', () => {
    expect(created.status, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      raster: `${schema}.dem_raster`,
      minresolution: 5,
      maxresolution: 6,
      compression: null,
      bands: [
        { name: 'band_1', type: 'int32' },
        { name: 'band_2', type: 'float32' },
      ],
    });
  });

  it('serves pixels equal to ST_Value of the source at each pixel centre', async () => {
    const source = await rasterSource({
      apiBaseUrl: baseUrl,
      accessToken: token,
      connectionName: connection,
      tableName: `${schema}.dem_raster`,
    });
    expect(source.raster_metadata).toMatchObject({ compression: null, maxresolution: 6 });
    // The block at resolution 6 holding 3° W, 41.5° N.
    const block = { z: 6, x: Math.floor(((-3 + 180) / 360) * 64), y: 23 };
    const fetched = await fetchBlock(
      source.tiles,
      source.raster_metadata,
      cellHex(6, block.x, block.y),
    );
    expect(fetched.status).toBe(200);
    const props = fetched.decoded!.cells.numericProps;

    const pixel = (2 * HALF_WORLD) / (64 * 256);
    const samples: { i: number; x: number; y: number }[] = [];
    for (let row = 3; row < 256; row += 7) {
      for (let column = 5; column < 256; column += 7) {
        samples.push({
          i: row * 256 + column,
          x: -HALF_WORLD + (block.x * 256 + column + 0.5) * pixel,
          y: HALF_WORLD - (block.y * 256 + row + 0.5) * pixel,
        });
      }
    }
    const expected = await runAsSuperuser<{ i: number; b1: number | null; b2: number | null }>(
      info,
      `SELECT p.i, ST_Value(d.rast, 1, g.geom)::float8 AS b1,
              ST_Value(d.rast, 2, g.geom)::float8 AS b2
         FROM unnest($1::int[], $2::float8[], $3::float8[]) AS p(i, x, y)
         CROSS JOIN LATERAL (
           SELECT ST_Transform(ST_SetSRID(ST_MakePoint(p.x, p.y), 3857), 4326) AS geom) AS g
         LEFT JOIN ${schema}.dem AS d ON ST_Intersects(d.rast, g.geom)
        ORDER BY p.i`,
      [samples.map((s) => s.i), samples.map((s) => s.x), samples.map((s) => s.y)],
    );
    // Pixels the source does not cover hold each band's nodata (ST_MapAlgebra declares one).
    const nodata = source.raster_metadata!.bands.map((band) => Math.fround(Number(band.nodata)));
    expect(nodata[0]).toBe(-2147483648);
    const inside = expected.filter((row) => row.b1 !== null);
    expect(inside.length).toBeGreaterThan(100);
    expect(expected.length - inside.length).toBeGreaterThan(0);
    for (const row of expected) {
      if (row.b1 === null) {
        expect(props.band_1!.value[row.i], `pixel ${row.i}`).toBe(nodata[0]);
        expect(props.band_2!.value[row.i], `pixel ${row.i}`).toBe(nodata[1]);
      } else {
        expect(props.band_1!.value[row.i], `pixel ${row.i}`).toBe(row.b1);
        expect(props.band_2!.value[row.i], `pixel ${row.i}`).toBe(Math.fround(row.b2!));
      }
    }
    const overview = await call(source.tiles[0]!.replace('{i}', cellHex(5, block.x >> 1, 11)));
    expect(overview.status).toBe(200);
  });

  it('refuses to replace an existing table without --overwrite', async () => {
    const again = await runCliAsync(
      [
        'rasters',
        'create',
        `${schema}.dem_raster`,
        '--connection',
        connection,
        '--table',
        `${schema}.dem`,
        '--resolution',
        '6',
      ],
      { dataDir },
    );
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('hands out new URLs once a raster is written again, nothing under old ones', async () => {
    const name = `${schema}.dem_again`;
    const build = () =>
      runCliAsync(
        ['rasters', 'create', name, '--connection', connection, '--table', `${schema}.dem`].concat([
          '--resolution',
          '6',
          '--min-resolution',
          '6',
          '--overwrite',
        ]),
        { dataDir },
      );
    const open = () =>
      call(`/v3/maps/${connection}/raster?name=${name}&format=tilejson&cache=${Date.now()}`);
    expect((await build()).status).toBe(0);
    const before = (await open()).json;
    // The same source, so the same pixels and statistics: only the writing time differs.
    expect((await build()).status).toBe(0);
    const after = (await open()).json;
    expect(after.raster_metadata).toEqual(before.raster_metadata);
    expect(after.tiles[0]).not.toBe(before.tiles[0]);
    const cell = cellHex(6, Math.floor(((-3 + 180) / 360) * 64), 23);
    const stale = await call(before.tiles[0].replace('{i}', cell));
    expect(stale.status).toBe(204);
    expect(stale.headers.get('cache-control')).toBe('no-store');
    expect((await call(after.tiles[0].replace('{i}', cell))).status).toBe(200);
  });
});
