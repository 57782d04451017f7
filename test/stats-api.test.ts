import { randomBytes } from 'node:crypto';
import { query, vectorQuerySource, vectorTableSource, type Filters } from '@carto/api-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { describeWithPostgres } from './support/postgres.js';
import { embeddedTarget, postgresTarget, type WidgetTarget } from './support/widget-targets.js';
import { createPostgresConnection, ensurePostgresDemoData } from './support/postgres-demo.js';

/**
 * The Stats API (`/v3/stats/...`) on the embedded warehouse and on a PostgreSQL connection:
 * every figure is checked against SQL the test writes itself (window functions for the
 * quantiles, not percentile_disc) and runs through the SQL API, plus `getExtent()` of CARTO's
 * client library.
 */

const { baseUrl, clientId, clientSecret } = sharedServer();
let accessToken = '';

beforeAll(async () => {
  accessToken = await fetchToken(baseUrl, clientId, clientSecret);
});

type Row = Record<string, any>;
type Fields = Record<string, unknown>;

const embedded = embeddedTarget(baseUrl, () => accessToken);

/** A Stats API call as CARTO's client sends it: JSON values in the query string, or a body. */
async function callStats(path: string, fields: Fields = {}, method: 'GET' | 'POST' = 'GET') {
  const url = new URL(`${baseUrl}/v3/stats/${path}`);
  const init: RequestInit = { method, headers: { Authorization: `Bearer ${accessToken}` } };
  if (method === 'GET') {
    for (const [key, v] of Object.entries(fields)) {
      url.searchParams.set(key, typeof v === 'string' ? v : JSON.stringify(v));
    }
  } else {
    init.headers = { ...init.headers, 'Content-Type': 'application/json' };
    init.body = JSON.stringify(fields);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    cacheControl: response.headers.get('cache-control'),
    text,
    body: JSON.parse(text) as Row,
  };
}

/** Calls by GET and by POST, checks both answer the same, and returns the answer. */
async function stats(path: string, fields: Fields = {}): Promise<Row> {
  const [get, post] = await Promise.all([
    callStats(path, fields, 'GET'),
    callStats(path, fields, 'POST'),
  ]);
  expect(get.status, get.text).toBe(200);
  expect(post.status, post.text).toBe(200);
  expect(get.text).not.toMatch(/NaN|Infinity/);
  expect(post.body).toEqual(get.body);
  expect(get.cacheControl).toMatch(/^private, max-age=\d+$/);
  expect(post.cacheControl).toBe('no-store');
  return get.body;
}

/** The breaks of n buckets (n = 3..20) by rank among `count` sorted values, as percentile_disc. */
function quantileRanks(count: number): Record<string, number[]> {
  const ranks: Record<string, number[]> = {};
  for (let n = 3; n <= 20; n += 1) {
    ranks[String(n)] = Array.from({ length: n - 1 }, (_, k) => {
      const fraction = Math.round(((k + 1) / n) * 1e12) / 1e12;
      return Math.max(1, Math.ceil(fraction * count));
    });
  }
  return ranks;
}

const NON_FINITE = `('NaN', 'Infinity', '-Infinity')`;

function statsSuite(target: WidgetTarget, prepare?: () => Promise<void>) {
  const { connectionName } = target;
  const suffix = randomBytes(4).toString('hex');
  const fixture = `public."StatsPoints_${suffix}"`;
  const empty = `public."StatsEmpty_${suffix}"`;
  const PLACES = 'demo.populated_places';
  const SPAIN: Filters = { country: { in: { values: ['ES'] } } };

  const sql = async (sqlQuery: string, queryParameters?: unknown[]): Promise<Row[]> => {
    const result = await query({
      apiBaseUrl: baseUrl,
      accessToken,
      connectionName,
      sqlQuery,
      ...(queryParameters ? { queryParameters: queryParameters as never } : {}),
    });
    return result.rows as Row[];
  };
  const tablePath = (table: string, column?: string) =>
    [connectionName, encodeURIComponent(table), ...(column ? [column] : [])].join('/');

  /** What a number attribute must be, by SQL over `fromSql` restricted by `where`. */
  async function expectedNumber(column: string, fromSql: string, where = 'TRUE') {
    const value = `CAST(${column} AS float8)`;
    const kept = `${where} AND ${column} IS NOT NULL AND ${value} NOT IN ${NON_FINITE}`;
    const [figures] = await sql(
      `SELECT count(*)::int AS n, min(${value}) AS min, max(${value}) AS max,
              sum(${value}) AS sum, avg(${value}) AS avg
         FROM ${fromSql} WHERE ${kept}`,
    );
    const ranks = quantileRanks(figures!.n);
    const ranked = await sql(
      `SELECT rn::int AS rn, v FROM (
         SELECT ${value} AS v, row_number() OVER (ORDER BY ${value}) AS rn
           FROM ${fromSql} WHERE ${kept}) AS s
        WHERE rn = ANY(CAST(string_to_array($1, ',') AS int[]))`,
      [[...new Set(Object.values(ranks).flat())].join(',')],
    );
    const byRank = new Map(ranked.map((r) => [r.rn as number, r.v as number]));
    const quantiles = Object.fromEntries(
      Object.entries(ranks).map(([n, list]) => [n, list.map((rank) => byRank.get(rank))]),
    );
    return { ...figures, quantiles: figures!.n === 0 ? null : quantiles };
  }

  function expectNumberStats(actual: Row, column: string, expected: Row) {
    expect(actual).toEqual({
      attribute: column,
      type: 'Number',
      avg: expected.avg === null ? null : expect.closeTo(expected.avg, 6),
      sum: expected.sum === null ? null : expect.closeTo(expected.sum, 6),
      min: expected.min,
      max: expected.max,
      quantiles: expected.quantiles,
    });
  }

  async function expectedCategories(column: string, fromSql: string, where = 'TRUE') {
    return sql(
      `SELECT ${column} AS category, count(*)::int AS frequency
         FROM ${fromSql} WHERE ${where} AND ${column} IS NOT NULL
        GROUP BY ${column} ORDER BY count(*) DESC, ${column} LIMIT 20`,
    );
  }

  async function expectedExtent(fromSql: string, where = 'TRUE') {
    const [box] = await sql(
      `SELECT min(ST_XMin(geom)) AS xmin, min(ST_YMin(geom)) AS ymin,
              max(ST_XMax(geom)) AS xmax, max(ST_YMax(geom)) AS ymax
         FROM ${fromSql} WHERE ${where}`,
    );
    return box!;
  }

  function expectExtent(actual: Row, expected: Row) {
    for (const key of ['xmin', 'ymin', 'xmax', 'ymax']) {
      expect(actual[key], key).toBeCloseTo(expected[key] as number, 9);
    }
  }

  describe(`Stats API on ${connectionName}`, () => {
    beforeAll(async () => {
      await prepare?.();
      await target.setUp(
        [
          `CREATE TABLE ${fixture} (
             id int, "Name" text, score float8, visited boolean, seen_at timestamptz,
             geom geometry(Point, 4326))`,
          `INSERT INTO ${fixture}
           SELECT g, 'n' || (g % 7),
                  CASE g % 10 WHEN 0 THEN CAST('NaN' AS float8)
                              WHEN 1 THEN CAST('Infinity' AS float8)
                              WHEN 2 THEN CAST('-Infinity' AS float8)
                              WHEN 3 THEN NULL ELSE g * 0.5 END,
                  CASE WHEN g % 5 = 0 THEN NULL ELSE g % 3 = 0 END,
                  TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '97 minutes',
                  ST_SetSRID(ST_MakePoint(-10 + g * 0.1, 35 + g * 0.05), 4326)
             FROM generate_series(1, 200) AS g`,
          `CREATE TABLE ${empty} (
             id int, "Name" text, score float8, visited boolean, seen_at timestamptz,
             geom geometry(Point, 4326))`,
        ],
        [fixture, empty],
      );
    });

    it('answers a table number column with every quantile, with and without filters', async () => {
      const all = await stats(tablePath(PLACES, 'population'));
      expectNumberStats(all, 'population', await expectedNumber('population', PLACES));
      const spain = await stats(tablePath(PLACES, 'population'), { filters: SPAIN });
      const where = `country = 'ES'`;
      expectNumberStats(spain, 'population', await expectedNumber('population', PLACES, where));
      expect(spain.sum).toBeLessThan(all.sum);
    });

    it('answers a query source number column, with its bind values', async () => {
      const q = 'SELECT * FROM demo.populated_places WHERE country = $1';
      const answer = await stats(`${connectionName}/population`, {
        q,
        queryParameters: ['FR'],
        filters: { population: { between: { values: [[1000, null]] } } },
      });
      const expected = await expectedNumber(
        'population',
        PLACES,
        `country = 'FR' AND population >= 1000`,
      );
      expectNumberStats(answer, 'population', expected);
    });

    it('ignores NaN and infinities in a float column and never writes them', async () => {
      const answer = await stats(tablePath(fixture, 'score'));
      expectNumberStats(answer, 'score', await expectedNumber('score', fixture));
      expect(answer.min).toBe(2);
      expect(answer.max).toBe(99.5);
    });

    it('answers text columns with the 20 most frequent values, filters applied', async () => {
      const answer = await stats(tablePath(PLACES, 'country'));
      expect(answer).toEqual({
        attribute: 'country',
        type: 'String',
        categories: await expectedCategories('country', PLACES),
      });
      expect(answer.categories).toHaveLength(20);
      const filtered = await stats(tablePath(PLACES, 'feature_code'), { filters: SPAIN });
      expect(filtered.categories).toEqual(
        await expectedCategories('feature_code', PLACES, `country = 'ES'`),
      );
      const quoted = await stats(tablePath(fixture, 'Name'));
      expect(quoted.categories).toEqual(await expectedCategories('"Name"', fixture));
    });

    it('answers boolean and timestamp columns', async () => {
      const visited = await stats(tablePath(fixture, 'visited'));
      expect(visited).toEqual({
        attribute: 'visited',
        type: 'Boolean',
        categories: await expectedCategories('visited', fixture),
      });
      expect(visited.categories.map((c: Row) => c.category)).toEqual([false, true]);
      const filters = { id: { closed_open: { values: [[10, 50]] } } };
      const seen = await stats(tablePath(fixture, 'seen_at'), { filters });
      const [range] = await sql(
        `SELECT min(seen_at) AS min, max(seen_at) AS max FROM ${fixture}
          WHERE id >= 10 AND id < 50`,
      );
      expect(seen).toEqual({ attribute: 'seen_at', type: 'Timestamp', ...range });
      expect(seen.min).toBe('2024-01-01T16:10:00.000Z');
    });

    it('answers the WGS84 extent of a geometry column, filters applied', async () => {
      const all = await stats(tablePath(PLACES, 'geom'), { spatialDataType: 'geo' });
      expect(Object.keys(all)).toEqual(['extent']);
      expectExtent(all.extent, await expectedExtent(PLACES));
      const spain = await stats(tablePath(PLACES, 'geom'), { filters: SPAIN });
      expectExtent(spain.extent, await expectedExtent(PLACES, `country = 'ES'`));
      const q = 'SELECT name, geom FROM demo.countries WHERE name = $1';
      const country = await stats(`${connectionName}/geom`, { q, queryParameters: ['Chile'] });
      expectExtent(country.extent, await expectedExtent('demo.countries', `name = 'Chile'`));
    });

    it('answers every column of a table, each as its own column answer', async () => {
      const answer = await stats(tablePath(fixture), { filters: { id: { in: { values: [] } } } });
      expect(answer.count).toBe(0);
      const whole = await stats(tablePath(fixture));
      expect(whole.count).toBe(200);
      expect(whole.attributes.map((a: Row) => [a.attribute, a.type])).toEqual([
        ['id', 'Number'],
        ['Name', 'String'],
        ['score', 'Number'],
        ['visited', 'Boolean'],
        ['seen_at', 'Timestamp'],
      ]);
      for (const attribute of whole.attributes as Row[]) {
        expect(await stats(tablePath(fixture, attribute.attribute as string))).toEqual(attribute);
      }
      expect(whole.extent).toEqual((await stats(tablePath(fixture, 'geom'))).extent);

      const states = await stats(tablePath('demo.us_states'));
      const [{ n }] = (await sql('SELECT count(*)::int AS n FROM demo.us_states')) as [Row];
      expect(states.count).toBe(n);
      expect(states.attributes.map((a: Row) => a.attribute)).toEqual(['geoid', 'name']);
      expectExtent(states.extent, await expectedExtent('demo.us_states'));
    });

    it('answers nulls, never an error, for empty and all-NULL sources', async () => {
      const nothing = 'SELECT * FROM demo.populated_places WHERE population < 0';
      expect(await stats(`${connectionName}/population`, { q: nothing })).toEqual({
        attribute: 'population',
        type: 'Number',
        avg: null,
        sum: null,
        min: null,
        max: null,
        quantiles: null,
      });
      expect(await stats(tablePath(empty, 'seen_at'))).toEqual({
        attribute: 'seen_at',
        type: 'Timestamp',
        min: null,
        max: null,
      });
      expect(await stats(tablePath(empty, 'Name'))).toEqual({
        attribute: 'Name',
        type: 'String',
        categories: [],
      });
      expect(await stats(tablePath(empty, 'geom'))).toEqual({
        extent: { xmin: null, ymin: null, xmax: null, ymax: null },
      });
      const allNull = 'SELECT CAST(NULL AS float8) AS v FROM generate_series(1, 3)';
      expect((await stats(`${connectionName}/v`, { q: allNull })).quantiles).toBeNull();
      const whole = await stats(tablePath(empty));
      expect(whole.count).toBe(0);
      expect(whole.extent).toEqual({ xmin: null, ymin: null, xmax: null, ymax: null });
    });

    it("gives the client library's getExtent() the bbox, with and without filters", async () => {
      const common = { apiBaseUrl: baseUrl, accessToken, connectionName };
      const table = await vectorTableSource({ ...common, tableName: PLACES });
      const expected = await expectedExtent(PLACES);
      const { bbox } = await table.widgetSource.getExtent();
      expectExtent({ xmin: bbox[0], ymin: bbox[1], xmax: bbox[2], ymax: bbox[3] }, expected);
      const spain = await table.widgetSource.getExtent({ filters: SPAIN });
      const spainBox = await expectedExtent(PLACES, `country = 'ES'`);
      expect(spain.bbox).toEqual([
        expect.closeTo(spainBox.xmin, 9),
        expect.closeTo(spainBox.ymin, 9),
        expect.closeTo(spainBox.xmax, 9),
        expect.closeTo(spainBox.ymax, 9),
      ]);

      const portugal = await vectorQuerySource({
        ...common,
        sqlQuery: 'SELECT * FROM demo.populated_places WHERE country = $1',
        queryParameters: ['PT'],
      });
      const big = await expectedExtent(PLACES, `country = 'PT' AND population >= 50000`);
      const filtered = await portugal.widgetSource.getExtent({
        filters: { population: { between: { values: [[50_000, 1e9]] } } },
      });
      expect(filtered.bbox).toEqual(
        [big.xmin, big.ymin, big.xmax, big.ymax].map((v) => expect.closeTo(v as number, 9)),
      );
      const unfiltered = await portugal.widgetSource.getExtent();
      expect(unfiltered.bbox[0]).toBeLessThan(filtered.bbox[0]!);
    });

    it('answers bad input with 4xx in the JSON error shape', async () => {
      const cases: [string, Fields, number, Row][] = [
        [tablePath(PLACES, 'nope'), {}, 400, { error: 'Column not found', column_name: 'nope' }],
        [
          `${connectionName}/nope`,
          { q: 'SELECT 1 AS one' },
          400,
          { error: 'Column not found', column_name: 'nope' },
        ],
        [tablePath('demo.no_such_table', 'id'), {}, 404, { code: 'table_not_found' }],
        [tablePath('demo.no_such_table'), {}, 404, { code: 'table_not_found' }],
        [`${connectionName}/x`, { q: 'SELEC 1 AS x' }, 400, {}],
        [`${connectionName}/x`, { q: 'SELECT 1 AS x; SELECT 2 AS x' }, 400, {}],
        [`${connectionName}/x`, { q: '' }, 400, { code: 'missing_parameter' }],
        [tablePath(PLACES, 'id'), { filters: '{"country": ' }, 400, { code: 'invalid_parameter' }],
        [
          tablePath(PLACES, 'id'),
          { filters: { population: { in: { values: ['many'] } } } },
          400,
          { code: 'invalid_parameter' },
        ],
        [
          tablePath(PLACES, 'id'),
          { filters: { nope: { in: { values: [1] } } } },
          400,
          { error: 'Column not found', column_name: 'nope' },
        ],
        [tablePath(PLACES, 'id'), { q: 'SELECT 1' }, 400, { code: 'invalid_parameter' }],
        [tablePath(PLACES, 'geom'), { spatialDataType: 'h3' }, 400, {}],
        ['no_such_connection/demo.countries/name', {}, 404, { code: 'connection_not_found' }],
      ];
      for (const [path, fields, status, body] of cases) {
        for (const method of ['GET', 'POST'] as const) {
          const answer = await callStats(path, fields, method);
          const label = `${method} ${path} ${JSON.stringify(fields)}`;
          expect(answer.status, label).toBe(status);
          expect(answer.type, label).toMatch(/^application\/json/);
          expect(answer.body, label).toMatchObject({ status, ...body });
          expect(typeof answer.body.error, label).toBe('string');
          expect(typeof answer.body.code, label).toBe('string');
        }
      }
    });
  });
}

statsSuite(embedded);
describeWithPostgres('on a PostgreSQL connection', (info) => {
  statsSuite(postgresTarget(info, 'pg_stats'), async () => {
    await ensurePostgresDemoData(info);
    await createPostgresConnection(baseUrl, accessToken, info, 'pg_stats');
  });
});
