import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { runCliAsync, type AsyncCliRun } from './support/cli-async.js';
import { findFreePort } from './support/server-process.js';
import { decodeMvt } from './support/tiles.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
const dataDir = inject('dataDir');
const suffix = Math.random().toString(16).slice(2, 10);
const geojsonTable = `public.cli_geojson_${suffix}`;
const csvTable = `public.cli_csv_${suffix}`;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'graticule-cli-api-'));

/** Runs the built `graticule` against the shared server with its client credentials. */
function graticule(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  return runCliAsync(args, {
    dataDir,
    input: options.input,
    env: {
      GRATICULE_URL: baseUrl,
      GRATICULE_CLIENT_ID: clientId,
      GRATICULE_CLIENT_SECRET: clientSecret,
      GRATICULE_TOKEN: '',
      ...options.env,
    },
  });
}

async function graticuleJson(args: string[], input?: string): Promise<any> {
  const run = await graticule([...args, '--json'], { input });
  expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout);
}

/** A failure is one line on stderr, with no stack trace, and a non-zero exit. */
function expectOneLineError(run: AsyncCliRun, message: RegExp): void {
  expect(run.status, run.stdout).not.toBe(0);
  expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stderr + run.stdout).not.toContain(clientSecret);
}

function writeFixture(name: string, text: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
}

beforeAll(() => {
  writeFixture(
    'places.geojson',
    JSON.stringify({
      type: 'FeatureCollection',
      name: 'places',
      features: [
        {
          type: 'Feature',
          properties: { Name: 'Alpha', 'Pop Total': 120, ratio: 0.5, tags: ['a'], ok: true },
          geometry: { type: 'Point', coordinates: [2.17, 41.38] },
        },
        {
          type: 'Feature',
          properties: { Name: 'Beta', 'Pop Total': 3_000_000_000, ratio: 1, ok: false },
          geometry: {
            type: 'LineString',
            coordinates: [
              [0, 0, 5],
              [1, 1, 6],
            ],
          },
        },
        { type: 'Feature', properties: { Name: 'Gamma' }, geometry: null },
      ],
    }),
  );
  writeFixture(
    'stations.csv',
    'id,name,lng,lat,zip,opened\r\n' +
      '1,North,-3.7,40.4,01234,2020-01-01\r\n' +
      '2,"South, ""old""",-3.6,40.3,02345,2021-05-06\r\n' +
      '3,Nowhere,,,03456,\r\n',
  );
});

afterAll(async () => {
  // Dropped even when a test failed half-way; an absent table is no error.
  for (const table of [geojsonTable, csvTable]) {
    await graticule(['sql', `DROP TABLE IF EXISTS ${table}`, '--json']);
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('graticule sql', () => {
  it('prints an aligned table, the JSON rows, or NDJSON and CSV streamed', async () => {
    const q = 'SELECT name, iso_n3 FROM demo.countries WHERE name IN ($1, $2) ORDER BY name';
    const params = ['--param', 'Spain', '--param', 'Chile'];

    const table = await graticule(['sql', q, ...params, '--table']);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout.split('\n')).toEqual([
      'name  | iso_n3',
      '------+-------',
      'Chile | 152',
      'Spain | 724',
      '(2 rows)',
      '',
    ]);

    expect(await graticuleJson(['sql', q, ...params])).toEqual([
      { name: 'Chile', iso_n3: '152' },
      { name: 'Spain', iso_n3: '724' },
    ]);

    const ndjson = await graticule(['sql', q, ...params, '--ndjson']);
    expect(
      ndjson.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { name: 'Chile', iso_n3: '152' },
      { name: 'Spain', iso_n3: '724' },
    ]);
    // Off a terminal, NDJSON is the default.
    expect((await graticule(['sql', q, ...params])).stdout).toBe(ndjson.stdout);

    const csv = await graticule(['sql', q, ...params, '--csv']);
    expect(csv.stdout).toBe('name,iso_n3\nChile,152\nSpain,724\n');
    expect(csv.stderr).toBe('');
  });

  it('reads the query from stdin and binds JSON parameter values', async () => {
    const rows = await graticuleJson(
      ['sql', '--param', '41', '--param', '{"a":[1,2]}', '--param', '"7"'],
      "SELECT $1::int + 1 AS n, ($2::jsonb)->'a' AS a, $3::text AS t\n",
    );
    expect(rows).toEqual([{ n: 42, a: [1, 2], t: '7' }]);
  });

  it('runs a statement as an async SQL job and waits for it', async () => {
    const run = await graticule(['sql', '--job', 'SELECT name FROM demo.us_states']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Job job_[0-9a-f]+ succeeded: 56 rows in \d+ ms\.\n$/);
    // Progress goes to a terminal only: none when stderr is a pipe.
    expect(run.stderr).toBe('');

    const job = await graticuleJson(['sql', '--job', 'SELECT 1 AS one']);
    expect(job).toMatchObject({ status: 'success', jobMetadata: { rowCount: 1 } });

    const failed = await graticule(['sql', '--job', 'SELECT * FROM no_such_table_anywhere']);
    expectOneLineError(failed, /^graticule: job job_\w+ failed: .*no_such_table_anywhere/);
  });

  it('answers an unknown connection and bad SQL with the API message in one line', async () => {
    expectOneLineError(
      await graticule(['sql', 'SELECT 1', '--connection', 'no_such_connection']),
      /^graticule: Connection 'no_such_connection' not found \(HTTP 404\)$/m,
    );
    expectOneLineError(
      await graticule(['sql', 'SELEC 1', '--table']),
      /^graticule: syntax error at or near "SELEC" \(HTTP 400\)$/m,
    );
    expectOneLineError(await graticule(['sql', '--json'], { input: '' }), /no query on stdin/);
  });

  it('says the server is not running, and how to start it', async () => {
    const url = `http://127.0.0.1:${await findFreePort()}`;
    const run = await graticule(['sql', 'SELECT 1', '--url', url]);
    expectOneLineError(run, new RegExp(`no Graticule server is running at ${url}: start one`));
  });

  it('names the credentials that are missing or refused, never printing them', async () => {
    const none = await graticule(['sql', 'SELECT 1'], {
      env: { GRATICULE_CLIENT_ID: '', GRATICULE_CLIENT_SECRET: '' },
    });
    expectOneLineError(none, /no credentials: set GRATICULE_TOKEN/);

    const wrongSecret = 'not-the-secret-0123456789';
    const refused = await graticule(['sql', 'SELECT 1'], {
      env: { GRATICULE_CLIENT_SECRET: wrongSecret },
    });
    expectOneLineError(refused, /token endpoint refused .* \(HTTP 401\)/);
    expect(refused.stderr).not.toContain(wrongSecret);

    const token = await fetchToken(baseUrl, clientId, clientSecret);
    const withToken = await graticule(['sql', 'SELECT 2 AS two', '--json', '--token', token], {
      env: { GRATICULE_CLIENT_ID: '', GRATICULE_CLIENT_SECRET: '' },
    });
    expect(withToken.status, withToken.stderr).toBe(0);
    expect(JSON.parse(withToken.stdout)).toEqual([{ two: 2 }]);
  });
});

describe('graticule tables', () => {
  it("lists a connection's tables with their spatial column, and shows one", async () => {
    const tables = await graticuleJson(['tables', 'list', '--schema', 'demo']);
    expect(tables).toEqual(
      expect.arrayContaining([
        { schema: 'demo', name: 'us_states', kind: 'table', spatial_column: 'geom' },
        { schema: 'demo', name: 'places_h3', kind: 'table', spatial_column: null },
      ]),
    );
    const shown = await graticuleJson(['tables', 'show', 'demo.us_states', '--rows', '2']);
    expect(shown.columns).toEqual([
      { name: 'geoid', type: 'text' },
      { name: 'name', type: 'text' },
      { name: 'geom', type: 'geometry' },
    ]);
    expect(shown.rows).toHaveLength(2);
    expect(shown.rows[0].geom).toMatch(/^MULTIPOLYGON\(/);
    expectOneLineError(
      await graticule(['tables', 'show', 'demo.no_such_table']),
      /^graticule: no table demo\.no_such_table on connection carto_dw \(HTTP 404\)$/m,
    );
  });
});

describe('graticule apps update', () => {
  it("changes an application's settings on the data directory", async () => {
    const created = await graticuleJson([
      'apps',
      'create',
      '--name',
      `cli app ${suffix}`,
      '--url',
      'https://spa.example.com',
    ]);
    const updated = await graticuleJson([
      'apps',
      'update',
      created.client_id,
      '--name',
      `cli app ${suffix} renamed`,
      '--url',
      'https://spa2.example.com',
    ]);
    expect(updated).toMatchObject({
      name: `cli app ${suffix} renamed`,
      url: 'https://spa2.example.com',
      callback_urls: ['https://spa2.example.com'],
    });
    expectOneLineError(
      await graticule(['apps', 'update', created.client_id]),
      /^error: Malformed request body: nothing to change$/m,
    );
    expect(await graticuleJson(['apps', 'delete', created.client_id])).toEqual({
      client_id: created.client_id,
      deleted: true,
    });
  });
});

describe('graticule maps instantiate and tile', () => {
  it("prints the TileJSON's tile URL and a summary, or the whole TileJSON", async () => {
    const run = await graticule(['maps', 'instantiate', '--table', 'demo.us_states']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Source demo\.us_states on carto_dw: 56 rows, Polygon$/m);
    expect(run.stdout).toContain(`Tiles:   ${baseUrl}/v3/maps/carto_dw/table/{z}/{x}/{y}?`);
    expect(run.stdout).toMatch(/^Fields: .*name \(String\)/m);

    const tileJson = await graticuleJson([
      'maps',
      'instantiate',
      '--query',
      'SELECT name, geom FROM demo.us_states WHERE name = $1',
      '--param',
      'Texas',
      '--format',
      'mvt',
    ]);
    expect(tileJson).toMatchObject({ tilejson: '3.0.0', scheme: 'xyz' });
    expect(tileJson.tiles[0]).toMatch(/\/query\/\{z\}\/\{x\}\/\{y\}\?.*formatTiles=mvt/);
    expect(tileJson.tilestats.layers[0].count).toBe(1);
  });

  it('writes a tile to a file or to stdout', async () => {
    const file = path.join(tmp, 'states.mvt');
    const written = await graticuleJson([
      'maps',
      'tile',
      '--table',
      'demo.us_states',
      '0/0/0',
      '-o',
      file,
    ]);
    expect(written).toMatchObject({ file, contentType: 'application/vnd.mapbox-vector-tile' });
    const body = readFileSync(file);
    expect(written.bytes).toBe(body.length);
    const names = decodeMvt(new Uint8Array(body).buffer, 0, 0, 0).features.map(
      (f) => f.properties.name,
    );
    expect(names).toContain('Texas');
    // Zoom 0 drops the states smaller than a pixel.
    expect(names.length).toBeGreaterThan(40);

    // Off a terminal the tile goes to stdout; the runner reads it as text, so compare sizes.
    const piped = await graticule(['maps', 'tile', '--table', 'demo.us_states', '0/0/0']);
    expect(piped.status, piped.stderr).toBe(0);
    expect(Buffer.byteLength(piped.stdout, 'latin1')).toBeGreaterThan(0);

    const bad = await graticule(['maps', 'tile', '--table', 'demo.us_states', '1/2/0']);
    expectOneLineError(bad, /^graticule: .*x must be below 2 at zoom 1 \(HTTP 400\)$/m);
    const missing = await graticule(['maps', 'instantiate', '--table', 'demo.no_such_table']);
    expectOneLineError(missing, /Table 'demo\.no_such_table' not found \(HTTP 404\)/);
  });
});

describe('graticule tokens', () => {
  it('creates, lists, gets and deletes an API access token that works meanwhile', async () => {
    const name = `cli-token-${suffix}`;
    const created = await graticuleJson([
      'tokens',
      'create',
      '--grant',
      'carto_dw:demo.countries',
      '--grant',
      'carto_dw:SELECT name::text FROM demo.countries',
      '--api',
      'maps,sql',
      '--referer',
      'https://maps.example.com',
      '--expires',
      '2099-12-31',
      '--name',
      name,
    ]);
    expect(created).toMatchObject({
      name,
      allowed_apis: ['maps', 'sql'],
      referers: ['https://maps.example.com'],
      expiration_date: '2099-12-31T00:00:00.000Z',
      grants: [
        { connection_name: 'carto_dw', source: 'demo.countries' },
        { connection_name: 'carto_dw', source: 'SELECT name::text FROM demo.countries' },
      ],
    });
    const token = created.token as string;
    const use = () =>
      fetch(`${baseUrl}/v3/maps/carto_dw/table?name=demo.countries`, {
        headers: { Authorization: `Bearer ${token}`, Origin: 'https://maps.example.com' },
      });
    expect((await use()).status).toBe(200);

    const listed = await graticuleJson(['tokens', 'list']);
    expect(listed.map((t: { id: string }) => t.id)).toContain(created.id);
    const table = await graticule(['tokens', 'list']);
    expect(table.stdout).toMatch(
      new RegExp(`^${created.id}\\s+${name}\\s+maps,sql\\s+2\\s+2099`, 'm'),
    );
    expect(table.stdout).not.toContain(token);

    const byName = await graticule(['tokens', 'get', name]);
    expect(byName.stdout).toContain(`id:         ${created.id}`);
    expect(byName.stdout).not.toContain(token);

    expect(await graticuleJson(['tokens', 'delete', created.id])).toEqual({
      id: created.id,
      name,
      deleted: true,
    });
    expect((await use()).status).toBe(401);
    expectOneLineError(
      await graticule(['tokens', 'get', created.id]),
      /^graticule: no token with the id or name 'tk_\w+' \(HTTP 404\)$/m,
    );
  });

  it('answers bad grants with one line', async () => {
    expectOneLineError(
      await graticule(['tokens', 'create', '--grant', 'no_such_connection:demo.x']),
      /no connection named 'no_such_connection' in this account \(HTTP 400\)/,
    );
    expectOneLineError(
      await graticule(['tokens', 'create', '--grant', 'carto_dw']),
      /expected <connection>:<source>/,
    );
  });
});

describe('graticule import', () => {
  it('loads a GeoJSON FeatureCollection into a new table that queries back', async () => {
    const summary = await graticuleJson([
      'import',
      path.join(tmp, 'places.geojson'),
      '--table',
      geojsonTable,
    ]);
    expect(summary).toMatchObject({ table: geojsonTable, rows: 3, withGeometry: 2 });
    expect(summary.columns).toEqual([
      { name: 'name', type: 'text', from: 'Name' },
      { name: 'pop_total', type: 'bigint', from: 'Pop Total' },
      { name: 'ratio', type: 'double precision' },
      { name: 'tags', type: 'jsonb' },
      { name: 'ok', type: 'boolean' },
      { name: 'geom', type: 'geometry(Geometry,4326)' },
    ]);

    const rows = await graticuleJson([
      'sql',
      `SELECT name, pop_total, ratio, tags, ok, ST_AsText(geom) AS wkt, ST_SRID(geom) AS srid
       FROM ${geojsonTable} ORDER BY name`,
    ]);
    expect(rows).toEqual([
      {
        name: 'Alpha',
        pop_total: 120,
        ratio: 0.5,
        tags: ['a'],
        ok: true,
        wkt: 'POINT(2.17 41.38)',
        srid: 4326,
      },
      {
        name: 'Beta',
        pop_total: 3000000000,
        ratio: 1,
        tags: null,
        ok: false,
        wkt: 'LINESTRING(0 0,1 1)',
        srid: 4326,
      },
      { name: 'Gamma', pop_total: null, ratio: null, tags: null, ok: null, wkt: null, srid: null },
    ]);

    const again = await graticule([
      'import',
      path.join(tmp, 'places.geojson'),
      '--table',
      geojsonTable,
    ]);
    expectOneLineError(again, /exists already on carto_dw: give --replace/);
    const replaced = await graticule([
      'import',
      path.join(tmp, 'places.geojson'),
      '--table',
      geojsonTable,
      '--replace',
    ]);
    expect(replaced.status, replaced.stderr).toBe(0);
    expect(replaced.stdout).toMatch(/^Imported 3 rows into .* replacing the old table\)\.$/m);
  });

  it('loads a CSV with coordinate columns, keeping codes with leading zeros as text', async () => {
    const run = await graticule([
      'import',
      path.join(tmp, 'stations.csv'),
      '--table',
      csvTable,
      '--lon',
      'lng',
      '--lat',
      'lat',
    ]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      'Columns: id integer, name text, lng double precision, lat double precision, zip text, ' +
        'opened date, geom geometry(Geometry,4326)',
    );
    const rows = await graticuleJson([
      'sql',
      `SELECT id, name, zip, opened, ST_AsText(geom) AS wkt FROM ${csvTable} ORDER BY id`,
    ]);
    expect(rows).toEqual([
      { id: 1, name: 'North', zip: '01234', opened: '2020-01-01', wkt: 'POINT(-3.7 40.4)' },
      { id: 2, name: 'South, "old"', zip: '02345', opened: '2021-05-06', wkt: 'POINT(-3.6 40.3)' },
      { id: 3, name: 'Nowhere', zip: '03456', opened: null, wkt: null },
    ]);

    const dropped = await graticule(['sql', `DROP TABLE ${csvTable}`, '--table']);
    expect(dropped.stdout).toBe('OK\n');
    const gone = await graticuleJson(['sql', 'SELECT to_regclass($1) AS t', '--param', csvTable]);
    expect(gone).toEqual([{ t: null }]);
  });

  it('refuses a bad file with one line naming the line or feature, creating nothing', async () => {
    const badFeature = writeFixture(
      'bad.geojson',
      '{"type":"FeatureCollection","features":[\n' +
        '{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[0,0]}},\n' +
        '{"type":"Feature","properties":{},"geometry":{"type":"Pointy","coordinates":[0,0]}}\n' +
        ']}',
    );
    const target = `public.cli_bad_${suffix}`;
    expectOneLineError(
      await graticule(['import', badFeature, '--table', target]),
      /^error: bad\.geojson: feature 2 \(line 3\): 'Pointy' is not a GeoJSON geometry type$/m,
    );
    const ragged = writeFixture('ragged.csv', 'a,b\n1,2\n3\n');
    expectOneLineError(
      await graticule(['import', ragged, '--table', target]),
      /^error: ragged\.csv: line 3: has 1 fields, the header 2$/m,
    );
    const notJson = writeFixture('rows.ndjson', '{"a":1}\n{oops\n');
    expectOneLineError(
      await graticule(['import', notJson, '--table', target]),
      /^error: rows\.ndjson: line 2: not JSON/m,
    );
    expectOneLineError(
      await graticule(['import', path.join(tmp, 'missing.csv'), '--table', target]),
      /cannot read .*missing\.csv \(ENOENT\)/,
    );
    expectOneLineError(
      await graticule(['import', ragged, '--table', target, '-c', 'no_such_connection']),
      /Connection 'no_such_connection' not found \(HTTP 404\)/,
    );
    const exists = await graticuleJson(['sql', 'SELECT to_regclass($1) AS t', '--param', target]);
    expect(exists).toEqual([{ t: null }]);
  });
});
