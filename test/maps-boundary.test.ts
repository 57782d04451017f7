/**
 * Boundary sources end to end: a boundary tileset built by a tileset job, instantiated with
 * CARTO's `boundaryQuerySource` and `boundaryTableSource`, and its geometry and properties
 * tiles decoded and joined with deck.gl's own loaders and merge, on the embedded warehouse and
 * on PostgreSQL; the joined values are compared with the data read through the SQL API.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { boundaryQuerySource, boundaryTableSource } from '@carto/api-client';
import { parse } from '@loaders.gl/core';
import type { LoaderWithParser } from '@loaders.gl/loader-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { createPostgresConnection } from './support/postgres-demo.js';
import { describeWithPostgres, pollUntil, runAsSuperuser } from './support/postgres.js';
import { tileUrl } from './support/tiles.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
const suffix = randomBytes(3).toString('hex');
let token = '';

beforeAll(async () => {
  token = await fetchToken(baseUrl, clientId, clientSecret);
});

/** A module of @deck.gl/carto's dist that the package index does not export. */
async function deckModule<T>(file: string): Promise<T> {
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('@deck.gl/carto'));
  return (await import(pathToFileURL(path.join(dist, file)).href)) as T;
}

const loaders = async () => ({
  vector: (
    await deckModule<{ default: LoaderWithParser }>('layers/schema/carto-vector-tile-loader.js')
  ).default,
  properties: (
    await deckModule<{ default: LoaderWithParser }>('layers/schema/carto-properties-tile-loader.js')
  ).default,
  merge: (await deckModule<{ mergeBoundaryData: (g: any, p: any) => any }>('layers/utils.js'))
    .mergeBoundaryData,
});

async function call(method: string, url: string, body?: unknown) {
  const response = await fetch(url.startsWith('http') ? url : `${baseUrl}${url}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, body: json, headers: response.headers };
}

async function sqlRows(connection: string, q: string): Promise<Record<string, unknown>[]> {
  const { status, body } = await call('POST', `/v3/sql/${connection}/query`, { q });
  if (status !== 200) throw new Error(`SQL failed (${status}): ${JSON.stringify(body)}`);
  return body.rows;
}

async function buildTileset(connection: string, options: Record<string, unknown>) {
  const created = await call('POST', `/v3/maps/${connection}/tileset/jobs`, options);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  let job: any;
  const ended = await pollUntil(async () => {
    job = (await call('GET', `/v3/maps/${connection}/tileset/jobs/${created.body.id}`)).body;
    return ['success', 'failure', 'cancelled'].includes(job.status);
  }, 90_000);
  expect(ended && job.status, JSON.stringify(job)).toBe('success');
}

interface JoinedFeature {
  geoid: string;
  properties: Record<string, unknown> | undefined;
  numbers: Record<string, number>;
}

/**
 * Fetches a tile's geometry and properties as deck.gl's `VectorTileLayer` does (both
 * templates, the bearer token), decodes both with deck.gl's loaders and joins them with its
 * merge; answers each polygon's geoid, joined properties and first-vertex numbers.
 */
async function joinedTile(tilejson: any, z: number, x: number, y: number) {
  const { vector, properties, merge } = await loaders();
  const headers = { Authorization: `Bearer ${tilejson.accessToken}` };
  const [geometryAnswer, propertiesAnswer] = await Promise.all([
    fetch(tileUrl(tilejson.tiles[0], z, x, y), { headers }),
    fetch(tileUrl(tilejson.properties_tiles[0], z, x, y), { headers }),
  ]);
  expect(geometryAnswer.status).toBe(200);
  expect(propertiesAnswer.headers.get('content-type') ?? '').toMatch(
    propertiesAnswer.status === 200 ? /^application\/vnd\.carto-properties-tile$/ : /.*/,
  );
  const geometry = (await parse(await geometryAnswer.arrayBuffer(), vector)) as any;
  const geoids = (geometry.polygons.properties as { geoid: string }[]).map((p) => p.geoid);
  if (propertiesAnswer.status === 204) return { status: 204, features: [] as JoinedFeature[] };
  expect(propertiesAnswer.status).toBe(200);
  const data = await parse(await propertiesAnswer.arrayBuffer(), properties);
  const merged = merge(geometry, data);
  const polygons = merged.polygons;
  const firstVertex = new Map<number, number>();
  const featureIds = polygons.featureIds.value as Uint32Array;
  for (let i = featureIds.length - 1; i >= 0; i--) firstVertex.set(featureIds[i]!, i);
  const features = geoids.map((geoid, i): JoinedFeature => {
    const vertex = firstVertex.get(i)!;
    const numbers = Object.fromEntries(
      Object.entries(polygons.numericProps as Record<string, { value: Float64Array }>).map(
        ([key, prop]) => [key, prop.value[vertex]!],
      ),
    );
    return { geoid, properties: polygons.properties[i], numbers };
  });
  return { status: 200, features };
}

describe('boundary sources on the embedded warehouse', () => {
  const tileset = `public.us_state_boundaries_${suffix}`;
  const DATA_SQL =
    'SELECT geoid, name, length(name) AS letters, geoid::int AS fips FROM demo.us_states';

  beforeAll(async () => {
    await buildTileset('carto_dw', {
      name: tileset,
      query: 'SELECT geoid, geom FROM demo.us_states',
      maxZoom: 3,
      format: 'binary',
    });
  });

  const options = () => ({
    apiBaseUrl: baseUrl,
    accessToken: token,
    connectionName: 'carto_dw',
    tilesetTableName: tileset,
  });

  it("joins a query's rows to the boundaries, as deck.gl merges them", async () => {
    const source = await boundaryQuerySource({ ...options(), propertiesSqlQuery: DATA_SQL });
    const tilejson = source as any;
    expect(tilejson.tiles[0]).toContain(`/v3/maps/carto_dw/tileset/{z}/{x}/{y}?`);
    expect(tilejson.properties_tiles[0]).toContain('/v3/maps/carto_dw/boundary/{z}/{x}/{y}?');
    const attributes = tilejson.tilestats.layers[0].attributes;
    expect(attributes.map((a: any) => a.attribute).sort()).toEqual(['fips', 'letters', 'name']);
    expect(attributes.find((a: any) => a.attribute === 'letters')).toMatchObject({
      type: 'Number',
      min: 4,
    });
    expect(tilejson.tilestats.layers[0].geometry).toMatch(/Polygon/);

    const expected = new Map(
      (await sqlRows('carto_dw', DATA_SQL)).map((r) => [String(r.geoid), r]),
    );
    const { features } = await joinedTile(tilejson, 1, 0, 0);
    expect(features.length).toBeGreaterThan(40);
    for (const feature of features) {
      const row = expected.get(feature.geoid)!;
      expect(row, feature.geoid).toBeDefined();
      expect(feature.properties).toEqual({ name: row.name });
      expect(feature.numbers).toEqual({ letters: row.letters, fips: row.fips });
    }
  });

  it('applies filters and columns to the data, leaving other features without data', async () => {
    const source = (await boundaryQuerySource({
      ...options(),
      propertiesSqlQuery: DATA_SQL,
      columns: ['letters'],
      filters: { name: { in: { values: ['Texas', 'Ohio'] } } },
    })) as any;
    expect(source.tilestats.layers[0].attributes.map((a: any) => a.attribute)).toEqual(['letters']);
    const { features } = await joinedTile(source, 1, 0, 0);
    const withData = features.filter((f) => f.properties !== undefined);
    expect(withData.map((f) => f.geoid).sort()).toEqual(['39', '48']);
    for (const feature of withData) {
      expect(feature.properties).toEqual({});
      expect(feature.numbers.letters).toBe(feature.geoid === '48' ? 5 : 4);
    }
    const without = features.find((f) => f.properties === undefined)!;
    expect(without.numbers.letters).toBeNaN();
  });

  it('answers 204 for a tile without boundaries, and 304 for an unchanged one', async () => {
    const source = (await boundaryTableSource({
      ...options(),
      propertiesTableName: 'demo.us_states',
    })) as any;
    const headers = { Authorization: `Bearer ${token}` };
    const empty = await fetch(tileUrl(source.properties_tiles[0], 3, 7, 7), { headers });
    expect(empty.status).toBe(204);
    const url = tileUrl(source.properties_tiles[0], 1, 0, 0);
    const first = await fetch(url, { headers });
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const etag = first.headers.get('etag')!;
    const again = await fetch(url, { headers: { ...headers, 'If-None-Match': etag } });
    expect(again.status).toBe(304);
  });

  it('lets an API access token read both halves only with grants for both', async () => {
    const tokenFor = async (sources: string[]) => {
      const answer = await call('POST', '/v3/tokens', {
        grants: sources.map((source) => ({ connection_name: 'carto_dw', source })),
        allowed_apis: ['maps'],
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      return answer.body.token as string;
    };
    const path =
      `/v3/maps/carto_dw/boundary?tilesetTableName=${tileset}` +
      '&propertiesTableName=demo.us_states';
    const read = async (apiToken: string, url = path) =>
      (await fetch(`${baseUrl}${url}`, { headers: { Authorization: `Bearer ${apiToken}` } }))
        .status;
    const both = await tokenFor([tileset, 'demo.us_states']);
    expect(await read(both)).toBe(200);
    const tile = path.replace('/boundary?', '/boundary/1/0/0?');
    expect(await read(both, tile)).toBe(200);
    expect(await read(await tokenFor(['demo.us_states']))).toBe(403);
    expect(await read(await tokenFor([tileset]), tile)).toBe(403);
  });

  it('answers bad input with 4xx JSON errors', async () => {
    const base = `/v3/maps/carto_dw/boundary`;
    const cases: [string, number, RegExp][] = [
      [`${base}?propertiesTableName=demo.us_states`, 400, /tilesetTableName/],
      [`${base}?tilesetTableName=${tileset}`, 400, /propertiesTableName/],
      [
        `${base}?tilesetTableName=${tileset}&propertiesTableName=demo.us_states` +
          '&propertiesSqlQuery=SELECT%201',
        400,
        /either/,
      ],
      [`${base}?tilesetTableName=demo.nope&propertiesTableName=demo.us_states`, 404, /nope/],
      [`${base}?tilesetTableName=${tileset}&propertiesTableName=demo.nope`, 404, /nope/],
      [`${base}?tilesetTableName=${tileset}&propertiesTableName=demo.countries`, 400, /geoid/],
      [
        `${base}?tilesetTableName=${tileset}&propertiesTableName=demo.us_states&columns=nope`,
        400,
        /nope/,
      ],
      [
        `${base}?tilesetTableName=${tileset}&propertiesTableName=demo.us_states` +
          `&filters=${encodeURIComponent('{"nope":{"in":{"values":[1]}}}')}`,
        400,
        /nope/,
      ],
      [`${base}/99/0/0?tilesetTableName=${tileset}&propertiesTableName=demo.us_states`, 400, /z/],
    ];
    for (const [url, status, message] of cases) {
      const answer = await call('GET', url);
      expect(answer.status, url).toBe(status);
      if (status >= 400) {
        expect(answer.body, url).toMatchObject({ status });
        expect(JSON.stringify(answer.body), url).toMatch(message);
      }
    }
  });
});

describeWithPostgres('boundary sources on a PostgreSQL connection', (info) => {
  const connection = `boundary_pg_${suffix}`;
  const fixture = `boundary_fixture_${suffix}`;
  const tileset = `${info.schema}.squares_boundaries_${suffix}`;

  beforeAll(async () => {
    // A 10 × 10 grid of one-degree squares over Spain, keyed by text, and data for most.
    await runAsSuperuser(
      info,
      `CREATE SCHEMA ${fixture};
       CREATE TABLE ${fixture}.squares AS
         SELECT 'sq-' || i AS geoid,
                ST_MakeEnvelope(-9 + i % 10, 36 + i / 10, -8 + i % 10, 37 + i / 10, 4326) AS geom
           FROM generate_series(0, 99) AS i;
       CREATE TABLE ${fixture}.stats AS
         SELECT 'sq-' || i AS geoid, i * 1.5 AS score, (i % 3 = 0) AS flag,
                'label ' || i AS label, 9007199254740993::bigint + i AS big
           FROM generate_series(0, 89) AS i;
       GRANT USAGE ON SCHEMA ${fixture} TO ${info.username};
       GRANT SELECT ON ALL TABLES IN SCHEMA ${fixture} TO ${info.username};`,
    );
    await createPostgresConnection(baseUrl, token, info, connection);
    await buildTileset(connection, {
      name: tileset,
      table: `${fixture}.squares`,
      maxZoom: 5,
      format: 'binary',
    });
  });

  afterAll(async () => {
    await call('DELETE', `/v3/connections/${connection}`);
    await runAsSuperuser(
      info,
      `DROP SCHEMA IF EXISTS ${fixture} CASCADE; DROP TABLE IF EXISTS ${tileset};`,
    );
  });

  it("joins a table's rows by geoid with deck.gl's merge, numbers by feature", async () => {
    const source = (await boundaryTableSource({
      apiBaseUrl: baseUrl,
      accessToken: token,
      connectionName: connection,
      tilesetTableName: tileset,
      propertiesTableName: `${fixture}.stats`,
    })) as any;
    expect(source.schema.map((f: any) => f.name)).toEqual(
      expect.arrayContaining(['geoid', 'score', 'flag', 'label', 'big']),
    );
    const { features } = await joinedTile(source, 0, 0, 0);
    expect(features).toHaveLength(100);
    let missing = 0;
    for (const feature of features) {
      const i = Number(feature.geoid.slice(3));
      if (i >= 90) {
        missing++;
        expect(feature.properties).toBeUndefined();
        expect(feature.numbers.score).toBeNaN();
        continue;
      }
      expect(feature.properties).toEqual({ flag: String(i % 3 === 0), label: `label ${i}` });
      expect(feature.numbers.score).toBe(i * 1.5);
      // Beyond 2^53 a bigint travels as the nearest double.
      expect(feature.numbers.big).toBe(Number(9007199254740993n + BigInt(i)));
    }
    expect(missing).toBe(10);
  });

  it('gives no data to a geometry tile of an earlier version of the tileset', async () => {
    const rebuilt = `${info.schema}.rebuilt_boundaries_${suffix}`;
    const build = (order: string, overwrite: boolean) =>
      buildTileset(connection, {
        name: rebuilt,
        query: `SELECT geoid, geom FROM ${fixture}.squares ORDER BY ${order}`,
        maxZoom: 1,
        format: 'binary',
        overwrite,
      });
    const instantiate = async () =>
      (await boundaryTableSource({
        apiBaseUrl: baseUrl,
        accessToken: token,
        connectionName: connection,
        tilesetTableName: rebuilt,
        propertiesTableName: `${fixture}.stats`,
      })) as any;
    try {
      await build('geoid', false);
      const before = await instantiate();
      await build('geoid DESC', true);
      // The tileset's metadata is trusted for up to ten seconds; a newer `cache` reads it again.
      // (Read directly: the client keeps its own answers to identical requests.)
      const path =
        `/v3/maps/${connection}/boundary?format=tilejson&tilesetTableName=${rebuilt}` +
        `&propertiesTableName=${fixture}.stats`;
      let after: any;
      const changed = await pollUntil(async () => {
        after = { ...(await call('GET', path)).body, accessToken: token };
        return after.tiles[0] !== before.tiles[0];
      }, 15_000);
      expect(changed).toBe(true);
      const headers = { Authorization: `Bearer ${token}` };
      const stale = await fetch(tileUrl(before.properties_tiles[0], 0, 0, 0), { headers });
      expect(stale.status).toBe(204);
      const { features } = await joinedTile(after, 0, 0, 0);
      const joined = features.filter((f) => f.properties !== undefined);
      expect(joined).toHaveLength(90);
      for (const feature of joined) {
        expect(feature.numbers.score).toBe(Number(feature.geoid.slice(3)) * 1.5);
      }
    } finally {
      await runAsSuperuser(info, `DROP TABLE IF EXISTS ${rebuilt}`);
    }
  });

  it('answers 404 for tiles of a data table dropped since it was inspected', async () => {
    await runAsSuperuser(
      info,
      `CREATE TABLE ${fixture}.doomed AS SELECT * FROM ${fixture}.stats;
       GRANT SELECT ON ${fixture}.doomed TO ${info.username};`,
    );
    const source = (await boundaryTableSource({
      apiBaseUrl: baseUrl,
      accessToken: token,
      connectionName: connection,
      tilesetTableName: tileset,
      propertiesTableName: `${fixture}.doomed`,
    })) as any;
    await runAsSuperuser(info, `DROP TABLE ${fixture}.doomed`);
    const answer = await call('GET', tileUrl(source.properties_tiles[0], 0, 0, 0));
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ status: 404, code: 'table_not_found' });
  });

  it('refuses data it cannot key or filter when instantiated, not tile by tile', async () => {
    const base =
      `/v3/maps/${connection}/boundary?tilesetTableName=${tileset}&propertiesSqlQuery=` +
      encodeURIComponent(
        `SELECT geoid, geoid AS other, '{}'::json AS j, score FROM ${fixture}.stats`,
      );
    const twice = await call(
      'GET',
      `/v3/maps/${connection}/boundary?tilesetTableName=${tileset}&propertiesSqlQuery=` +
        encodeURIComponent(`SELECT geoid, geoid FROM ${fixture}.stats`),
    );
    expect(twice.status).toBe(400);
    expect(twice.body.error).toMatch(/2 columns named 'geoid'/);
    const filters = encodeURIComponent(JSON.stringify({ j: { in: { values: ['x'] } } }));
    const badFilter = await call('GET', `${base}&filters=${filters}`);
    expect(badFilter.status).toBe(400);
    const keyOnly = await call('GET', `${base}&columns=geoid&format=tilejson`);
    expect(keyOnly.status).toBe(200);
    expect(keyOnly.body.schema).toEqual([{ name: 'geoid', type: 'string' }]);
    const badName = await call('GET', `/v3/maps/${connection}/boundary?tilesetTableName=a.b.c.d`);
    expect(badName.status).toBe(400);
    expect(badName.body.error).toMatch(/tilesetTableName/);
  });

  it('needs a text geoid in the tileset, and a binary tileset', async () => {
    const numeric = `${info.schema}.numeric_boundaries_${suffix}`;
    const mvt = `${info.schema}.mvt_boundaries_${suffix}`;
    await buildTileset(connection, {
      name: numeric,
      query: `SELECT row_number() OVER () AS geoid, geom FROM ${fixture}.squares`,
      maxZoom: 2,
      format: 'binary',
    });
    await buildTileset(connection, {
      name: mvt,
      table: `${fixture}.squares`,
      maxZoom: 2,
      format: 'mvt',
    });
    try {
      for (const name of [numeric, mvt]) {
        const answer = await call(
          'GET',
          `/v3/maps/${connection}/boundary?tilesetTableName=${name}` +
            `&propertiesTableName=${fixture}.stats`,
        );
        expect(answer.status, name).toBe(400);
        expect(answer.body.error).toMatch(name === mvt ? /binary/ : /geoid/);
      }
    } finally {
      await runAsSuperuser(info, `DROP TABLE IF EXISTS ${numeric}, ${mvt}`);
    }
  });
});
