import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { embeddedTarget } from './support/widget-targets.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
let token = '';

beforeAll(async () => {
  token = await fetchToken(baseUrl, clientId, clientSecret);
});

interface ModelCall {
  model?: string;
  type?: string;
  source?: string;
  params?: unknown;
  [key: string]: unknown;
}

const TABLE = { type: 'table', source: 'demo.populated_places' };

function searchOf(call: ModelCall): URLSearchParams {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(call)) {
    if (key === 'model' || value === undefined) continue;
    search.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return search;
}

async function getModel(call: ModelCall) {
  const url = `${baseUrl}/v3/sql/carto_dw/model/${call.model ?? 'formula'}?${searchOf(call)}`;
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function postModel(call: ModelCall) {
  const { model = 'formula', ...body } = call;
  const response = await fetch(`${baseUrl}/v3/sql/carto_dw/model/${model}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('widget API answers', () => {
  it('the same to GET and to POST with a JSON body', async () => {
    const call = {
      ...TABLE,
      model: 'category',
      params: { column: 'country', operation: 'count', othersThreshold: 2 },
      filters: { population: { between: { values: [[1_000_000, null]] } } },
    };
    const [viaGet, viaPost] = await Promise.all([getModel(call), postModel(call)]);
    expect(viaGet.status).toBe(200);
    expect(viaPost).toEqual(viaGet);
    expect((viaGet.body.rows as unknown[]).length).toBe(2);
  });

  it('caches GET answers privately and never POST answers', async () => {
    const search = searchOf({ ...TABLE, params: { operation: 'count' } });
    const get = await fetch(`${baseUrl}/v3/sql/carto_dw/model/formula?${search}`, {
      headers: { Authorization: `Bearer ${token}`, 'Cache-Control': 'max-age=30' },
    });
    expect(get.headers.get('cache-control')).toBe('private, max-age=30');
    const post = await fetch(`${baseUrl}/v3/sql/carto_dw/model/formula`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...TABLE, params: { operation: 'count' } }),
    });
    expect(post.headers.get('cache-control')).toBe('no-store');
  });
});

/** Runs a fixture statement on the embedded warehouse through the SQL API. */
const runSql = (q: string) => embeddedTarget(baseUrl, () => token).setUp([q], []);

describe('widget API columns', () => {
  it('finds a column added after the source was first used', async () => {
    const table = `public.widget_columns_${randomBytes(4).toString('hex')}`;
    await runSql(`CREATE TABLE ${table} AS SELECT g AS a FROM generate_series(1, 4) AS g`);
    const source = { type: 'table', source: table };
    const before = await getModel({ ...source, params: { operation: 'sum', column: 'a' } });
    expect(before.body).toEqual({ rows: [{ value: 10 }] });
    await runSql(`ALTER TABLE ${table} ADD COLUMN b int DEFAULT 2`);
    const after = await getModel({ ...source, params: { operation: 'sum', column: 'b' } });
    expect(after.body).toEqual({ rows: [{ value: 8 }] });
    const filtered = await getModel({
      ...source,
      params: { operation: 'count' },
      filters: { b: { in: { values: [2] } } },
    });
    expect(filtered.body).toEqual({ rows: [{ value: 4 }] });
    await runSql(`DROP TABLE ${table}`);
  });
});

describe('widget API bad input', () => {
  const cases: [string, ModelCall, number, RegExp][] = [
    ['an unknown widget', { ...TABLE, model: 'pie', params: {} }, 400, /unknown model 'pie'/],
    [
      'an unknown operation',
      { ...TABLE, params: { operation: 'median', column: 'population' } },
      400,
      /operation/,
    ],
    [
      'a sum over a text column',
      { ...TABLE, params: { operation: 'sum', column: 'name' } },
      400,
      /not a number column/,
    ],
    [
      'a filter value of the wrong type',
      { ...TABLE, params: {}, filters: { population: { in: { values: ['many'] } } } },
      400,
      /number column/,
    ],
    [
      'an unknown filter operator',
      { ...TABLE, params: {}, filters: { population: { near: { values: [1] } } } },
      400,
      /unknown filter 'near'/,
    ],
    [
      'a spatial filter that is not GeoJSON',
      { ...TABLE, params: {}, spatialFilters: { geom: { type: 'Circle', radius: 3 } } },
      400,
      /Polygon or MultiPolygon/,
    ],
    [
      'a spatial filter that is not JSON',
      { ...TABLE, params: {}, spatialFilters: '{"geom": POLYGON' },
      400,
      /spatialFilters/,
    ],
    [
      'a time series step that is not allowed',
      { ...TABLE, model: 'timeseries', params: { column: 'population', stepSize: 'decade' } },
      400,
      /stepSize/,
    ],
    [
      'an unknown time zone',
      {
        type: 'query',
        source: 'SELECT now() AS t',
        model: 'timeseries',
        params: { column: 't', stepSize: 'day', timezone: 'Mars/Olympus' },
      },
      400,
      /unknown time zone/,
    ],
    [
      'a table page over the limit',
      { ...TABLE, model: 'table', params: { column: ['name'], limit: 10_001 } },
      400,
      /limit/,
    ],
    [
      'a negative offset',
      { ...TABLE, model: 'table', params: { column: ['name'], offset: -1 } },
      400,
      /offset/,
    ],
    [
      'a sort direction that is not asc or desc',
      {
        ...TABLE,
        model: 'table',
        params: { column: ['name'], sortBy: 'name', sortDirection: 'up' },
      },
      400,
      /sortDirection/,
    ],
    [
      'unsorted histogram ticks',
      { ...TABLE, model: 'histogram', params: { column: 'population', ticks: [5, 1] } },
      400,
      /ascending/,
    ],
    [
      'a custom expression that escapes its place',
      {
        ...TABLE,
        params: { operation: 'custom', operationExp: 'count(*)) FROM demo.countries --' },
      },
      400,
      /operationExp/,
    ],
    ['a tileset source', { type: 'tileset', source: 'x', params: {} }, 400, /tileset/],
    ['no source type', { source: 'demo.populated_places', params: {} }, 400, /type/],
    ['params that are not an object', { ...TABLE, params: '[1,2]' }, 400, /params/],
    [
      'two statements in a query source',
      { type: 'query', source: 'SELECT 1 AS a; SELECT 2 AS a', params: {} },
      400,
      /single statement/,
    ],
    [
      'feature ids that are not geometry hashes',
      { ...TABLE, params: { featureIds: ['a'], geometryType: 'points' } },
      400,
      /featureIds/,
    ],
    [
      'a table that does not exist',
      { type: 'table', source: 'demo.nope', params: {} },
      404,
      /nope/,
    ],
  ];

  it.each(cases)('answers %s with a JSON error', async (_name, call, status, message) => {
    const { status: got, body } = await getModel(call);
    expect(got).toBe(status);
    expect(body).toMatchObject({ status, error: expect.stringMatching(message) });
    expect(typeof body.code).toBe('string');
  });

  it('answers a missing column with the error clients map to invalid-column errors', async () => {
    const { status, body } = await getModel({
      ...TABLE,
      params: { operation: 'sum', column: 'no_such_column' },
    });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'Column not found', column_name: 'no_such_column' });
  });

  it('takes thousands of intervals without failing', async () => {
    const values = Array.from({ length: 9_000 }, (_, i) => [i * 10, i * 10 + 5]);
    const { status, body } = await postModel({
      ...TABLE,
      params: { operation: 'count' },
      filters: { population: { between: { values } } },
    });
    expect(status).toBe(200);
    expect(typeof (body.rows as { value: number }[])[0]!.value).toBe('number');
  });

  it('compares decimal and huge bounds with integer columns', async () => {
    const count = async (filters: unknown) =>
      (await getModel({ ...TABLE, params: { operation: 'count' }, filters })).body;
    const decimal = await count({ population: { between: { values: [[1000, 5000.5]] } } });
    const whole = await count({ population: { between: { values: [[1000, 5000]] } } });
    expect(decimal).toEqual(whole);
    expect(await count({ population: { in: { values: [1052.5] } } })).toEqual({
      rows: [{ value: 0 }],
    });
    const huge = await count({ population: { between: { values: [[0, 1e20]] } } });
    const all = await count({ population: { between: { values: [[0, null]] } } });
    expect(huge).toEqual(all);
  });

  it('reads search flags sent as text', async () => {
    const search = (mustStart: unknown) =>
      getModel({
        ...TABLE,
        params: { operation: 'count' },
        filters: { name: { stringSearch: { values: ['drid'], params: { mustStart } } } },
      });
    expect((await search('false')).body).toEqual((await search(false)).body);
    expect((await search('maybe')).status).toBe(400);
  });

  it.each([
    ['an unknown logical operator', { filtersLogicalOperator: 'xor' }, /filtersLogicalOperator/],
    [
      'too many search texts',
      { filters: { name: { stringSearch: { values: Array(101).fill('a') } } } },
      /search texts/,
    ],
    [
      'h3 cells asked of a geometry column',
      {
        spatialDataType: 'h3',
        spatialFilters: { geom: { indexes: ['8a2a1072b59ffff'], type: 'h3' } },
      },
      /not h3 cells/,
    ],
    [
      'an h3 shape on a text column without cells',
      {
        spatialDataType: 'h3',
        spatialDataColumn: 'name',
        spatialFilters: {
          name: {
            type: 'Polygon',
            coordinates: [
              [
                [0, 40],
                [1, 40],
                [1, 41],
                [0, 40],
              ],
            ],
          },
        },
      },
      /h3 cells/,
    ],
  ])('answers 400 for %s', async (_name, extra, message) => {
    const { status, body } = await getModel({ ...TABLE, params: { operation: 'count' }, ...extra });
    expect(status).toBe(400);
    expect(body.error).toMatch(message);
  });

  it('answers 400 for expressions that do not aggregate', async () => {
    const formula = await getModel({
      ...TABLE,
      params: { operation: 'custom', operationExp: 'population' },
    });
    expect(formula.status).toBe(400);
    expect(formula.body.error).toMatch(/aggregate/);
    const list = await getModel({ ...TABLE, model: 'aggregations', params: { aggregations: '*' } });
    expect(list.status).toBe(400);
  });

  it('answers 400 for aggregations sharing an alias', async () => {
    const aggregations = [
      { column: 'population', operation: 'sum', alias: 'a' },
      { column: 'population', operation: 'avg', alias: 'a' },
    ];
    const { status, body } = await getModel({
      ...TABLE,
      model: 'aggregations',
      params: { aggregations },
    });
    expect(status).toBe(400);
    expect(body.error).toMatch(/alias/);
  });

  it('answers 404 for a connection it does not have', async () => {
    const response = await fetch(
      `${baseUrl}/v3/sql/nowhere/model/formula?${searchOf({ ...TABLE, params: {} })}`,
      { headers: { Authorization: `Bearer ${token}` } },
    );
    expect(response.status).toBe(404);
  });

  it('answers 401 without a token', async () => {
    const response = await fetch(`${baseUrl}/v3/sql/carto_dw/model/formula?${searchOf(TABLE)}`);
    expect(response.status).toBe(401);
  });

  it('refuses an enormous spatial filter with a 4xx, and keeps serving', async () => {
    const ring = Array.from({ length: 150_000 }, (_, i) => [-10 + i / 1e5, 40]);
    ring.push([-10, 41], [-10, 40]);
    ring[0] = [-10, 40];
    const { status } = await postModel({
      ...TABLE,
      params: {},
      spatialFilters: { geom: { type: 'Polygon', coordinates: [ring] } },
    });
    expect([400, 413]).toContain(status);
    const after = await getModel({ ...TABLE, params: {} });
    expect(after.status).toBe(200);
  });
});
