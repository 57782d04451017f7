import {
  applyFilters,
  vectorQuerySource,
  vectorTableSource,
  WidgetQuerySource,
  type Filters,
  type QueryParameters,
  type SpatialFilter,
  type WidgetRemoteSource,
} from '@carto/api-client';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { createPostgresConnection, ensurePostgresDemoData } from './support/postgres-demo.js';
import {
  callModel,
  embeddedTarget,
  postgresTarget,
  sqlRows,
  uniqueName,
  type WidgetTarget,
} from './support/widget-targets.js';

/**
 * Every widget method of CARTO's client library against Graticule's SQL Model API, with every
 * figure checked against SQL the test writes itself and runs through the SQL API: without
 * filters, with each filter operator, with `or`, and with viewports (one across the
 * antimeridian). The same suite runs on the embedded warehouse and on a PostgreSQL connection.
 */

const { baseUrl, clientId, clientSecret } = sharedServer();
const postgres = inject('postgres');
let accessToken = '';

beforeAll(async () => {
  accessToken = await fetchToken(baseUrl, clientId, clientSecret);
});

type Row = Record<string, any>;
type AnyWidgetSource = WidgetRemoteSource<any>;

/** Row g of the fixture sits at this instant plus g × 433 minutes. */
const FIXTURE_START_MS = Date.UTC(2024, 0, 1);
const FIXTURE_STEP_MS = 433 * 60_000;
const FIXTURE_ROWS = 500;
const instantOfRow = (g: number) => FIXTURE_START_MS + g * FIXTURE_STEP_MS;
const sqlInstant = (ms: number) => `TIMESTAMPTZ '${new Date(ms).toISOString()}'`;

function fixtureStatements(table: string): string[] {
  return [
    `CREATE TABLE ${table} (
       id int PRIMARY KEY, name text, category text, kind text, amount int, score float8,
       t timestamptz, geom geometry(Point, 4326))`,
    `INSERT INTO ${table}
     SELECT g,
            (ARRAY['Bogotá', 'São Paulo', 'Zürich', 'Madrid', 'Ålesund', 'Kraków'])[1 + g % 6]
              || ' ' || g,
            CASE WHEN g % 97 = 0 THEN 'd' WHEN g % 10 < 4 THEN 'a' WHEN g % 10 < 7 THEN 'b'
                 WHEN g % 10 < 9 THEN 'c' ELSE 'e' END,
            CASE WHEN g % 3 = 0 THEN 'x' WHEN g % 3 = 1 OR g % 11 = 0 THEN 'y' END,
            (g * 37) % 101,
            CASE WHEN g % 50 = 0 THEN NULL ELSE (g % 17) * 1.25 END,
            TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '433 minutes',
            ST_SetSRID(ST_MakePoint(CAST(-179.5 + (g * 7.3) % 359 AS float8),
                                    CAST(-60 + (g * 3.7) % 120 AS float8)), 4326)
       FROM generate_series(1, ${FIXTURE_ROWS}) AS g`,
  ];
}

/** A filter situation, and the same condition written by hand in SQL. */
interface Scenario {
  label: string;
  filters?: Filters;
  or?: boolean;
  spatialFilter?: SpatialFilter;
  where: string;
}

const box = (west: number, south: number, east: number, north: number): SpatialFilter => ({
  type: 'Polygon',
  coordinates: [
    [
      [west, south],
      [east, south],
      [east, north],
      [west, north],
      [west, south],
    ],
  ],
});

const TIME_FROM = instantOfRow(100);
const TIME_TO = instantOfRow(200);

const SCENARIOS: Scenario[] = [
  { label: 'no filter', where: 'TRUE' },
  {
    label: 'in (strings)',
    filters: { category: { in: { values: ['a', 'd'] } } },
    where: `category IN ('a', 'd')`,
  },
  {
    label: 'in (numbers)',
    filters: { amount: { in: { values: [5, 17, 50, 100] } } },
    where: 'amount IN (5, 17, 50, 100)',
  },
  {
    label: 'between, ends included, two intervals',
    filters: {
      amount: {
        between: {
          values: [
            [10, 50],
            [90, 95],
          ],
        },
      },
    },
    where: '((amount >= 10 AND amount <= 50) OR (amount >= 90 AND amount <= 95))',
  },
  {
    label: 'closed_open, end excluded',
    filters: { amount: { closed_open: { values: [[10, 50]] } } },
    where: 'amount >= 10 AND amount < 50',
  },
  {
    label: 'between on a float column',
    filters: { score: { between: { values: [[2.5, 10]] } } },
    where: 'score >= 2.5 AND score <= 10',
  },
  {
    label: 'time, both ends included',
    filters: { t: { time: { values: [[TIME_FROM, TIME_TO]] } } },
    where: `t >= ${sqlInstant(TIME_FROM)} AND t <= ${sqlInstant(TIME_TO)}`,
  },
  {
    label: 'stringSearch, accent-insensitive',
    filters: { name: { stringSearch: { values: ['bogota'] } } },
    where: `name LIKE 'Bogotá %'`,
  },
  {
    label: 'stringSearch, two values, mustStart',
    filters: {
      name: { stringSearch: { values: ['zurich', 'KRAKOW 1'], params: { mustStart: true } } },
    },
    where: `(name LIKE 'Zürich %' OR name LIKE 'Kraków 1%')`,
  },
  {
    label: 'stringSearch keeping special characters',
    filters: {
      name: {
        stringSearch: {
          values: ['são', 'alesund'],
          params: { keepSpecialCharacters: true },
        },
      },
    },
    where: `name LIKE 'São %'`,
  },
  {
    label: 'in with 450 values (the client sends POST)',
    filters: { id: { in: { values: Array.from({ length: 450 }, (_, i) => i + 1) } } },
    where: 'id <= 450',
  },
  {
    label: 'between with open ends',
    filters: {
      amount: {
        between: {
          values: [
            [null, 5],
            [97, null],
          ] as unknown as number[][],
        },
      },
    },
    where: '(amount <= 5 OR amount >= 97)',
  },
  {
    label: 'two columns with and',
    filters: {
      category: { in: { values: ['a'] } },
      amount: { between: { values: [[0, 20]] } },
    },
    where: `category = 'a' AND amount >= 0 AND amount <= 20`,
  },
  {
    label: 'two columns with or',
    or: true,
    filters: {
      category: { in: { values: ['a'] } },
      amount: { between: { values: [[0, 20]] } },
    },
    where: `(category = 'a' OR (amount >= 0 AND amount <= 20))`,
  },
  {
    label: 'viewport',
    spatialFilter: box(-30, -20, 40, 45),
    where: 'ST_X(geom) BETWEEN -30 AND 40 AND ST_Y(geom) BETWEEN -20 AND 45',
  },
  {
    label: 'viewport across the antimeridian',
    spatialFilter: box(160, -40, 200, 40),
    where: '(ST_X(geom) >= 160 OR ST_X(geom) <= -160) AND ST_Y(geom) BETWEEN -40 AND 40',
  },
  {
    label: 'multipolygon across the antimeridian',
    spatialFilter: {
      type: 'MultiPolygon',
      coordinates: [
        (box(-20, -10, 10, 30) as { coordinates: number[][][] }).coordinates,
        (box(170, -50, 185, 50) as { coordinates: number[][][] }).coordinates,
      ],
    },
    where: `(ST_X(geom) BETWEEN -20 AND 10 AND ST_Y(geom) BETWEEN -10 AND 30)
        OR ((ST_X(geom) >= 170 OR ST_X(geom) <= -175) AND ST_Y(geom) BETWEEN -50 AND 50)`,
  },
  {
    label: 'viewport and filters with or',
    or: true,
    spatialFilter: box(-180, 0, 180, 90),
    filters: {
      category: { in: { values: ['b'] } },
      score: { closed_open: { values: [[0, 5]] } },
    },
    where: `ST_Y(geom) >= 0 AND (category = 'b' OR (score >= 0 AND score < 5))`,
  },
];

/** Equal numbers, allowing for float rounding; nulls only equal nulls. */
function expectClose(actual: unknown, expected: unknown): void {
  if (expected === null || expected === undefined) {
    expect(actual ?? null).toBeNull();
    return;
  }
  expect(typeof actual).toBe('number');
  const e = Number(expected);
  expect(Math.abs((actual as number) - e)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(e)));
}

function byName(rows: Row[]): Map<unknown, number> {
  return new Map(rows.map((r) => [r.name, Number(r.value)]));
}

function widgetSuite(target: () => WidgetTarget, prepare?: () => Promise<void>) {
  const table = `public.${uniqueName('widget_fixture')}`;
  const sources: Record<string, { and: AnyWidgetSource; or: AnyWidgetSource }> = {};
  let connectionName = '';

  const rows = (q: string, params?: QueryParameters) =>
    sqlRows<Row>(baseUrl, accessToken, connectionName, q, params);

  describe(`widgets through CARTO's client on ${target().connectionName}`, () => {
    beforeAll(async () => {
      if (prepare) await prepare();
      connectionName = target().connectionName;
      await target().setUp(fixtureStatements(table), [table]);
      const common = { apiBaseUrl: baseUrl, accessToken, connectionName };
      for (const or of [false, true]) {
        // The client forwards `filtersLogicalOperator` from the source options to its
        // widget source, as apps pass it.
        const logical = or ? { filtersLogicalOperator: 'or' as const } : {};
        const tableOptions = { ...common, ...logical, tableName: table };
        const queryOptions = {
          ...common,
          ...logical,
          sqlQuery: `SELECT * FROM ${table} WHERE id <= $1`,
          queryParameters: [FIXTURE_ROWS],
        };
        const fromTable = (await vectorTableSource(tableOptions)).widgetSource;
        const fromQuery = (await vectorQuerySource(queryOptions)).widgetSource;
        const key = or ? 'or' : 'and';
        sources.table = { ...sources.table!, [key]: fromTable };
        sources.query = { ...sources.query!, [key]: fromQuery };
      }
    });

    for (const kind of ['table', 'query'] as const) {
      describe(`on a ${kind} source`, () => {
        for (const scenario of SCENARIOS) {
          describe(scenario.label, () => {
            const source = () => sources[kind]![scenario.or ? 'or' : 'and'];
            const options = () => ({
              filters: scenario.filters ?? {},
              ...(scenario.spatialFilter ? { spatialFilter: scenario.spatialFilter } : {}),
            });
            const where = () => `FROM ${table} WHERE (${scenario.where})`;

            it('answers getFormula for every operation as SQL does', async () => {
              const [expected] = await rows(
                `SELECT count(*)::int AS n, sum(amount)::float8 AS s, avg(score)::float8 AS a,
                        min(score) AS mn, max(score) AS mx,
                        (sum(amount) * 2 + count(*))::float8 AS c ${where()}`,
              );
              const w = source();
              const o = options();
              expect((await w.getFormula({ ...o, operation: 'count' })).value).toBe(expected!.n);
              // Counting a column counts its rows, NULLs included, as the client counts features.
              expect(await w.getFormula({ ...o, column: 'score', operation: 'count' })).toEqual({
                value: expected!.n,
              });
              const sum = await w.getFormula({ ...o, column: 'amount', operation: 'sum' });
              expectClose(sum.value, expected!.s);
              const avg = await w.getFormula({ ...o, column: 'score', operation: 'avg' });
              expectClose(avg.value, expected!.a);
              const min = await w.getFormula({ ...o, column: 'score', operation: 'min' });
              expectClose(min.value, expected!.mn);
              const max = await w.getFormula({ ...o, column: 'score', operation: 'max' });
              expectClose(max.value, expected!.mx);
              const custom = await w.getFormula({
                ...o,
                operation: 'custom',
                operationExp: 'sum(amount) * 2 + count(*)',
              });
              expectClose(custom.value ?? null, expected!.c);
            });

            it('answers getCategories with counts, sums and every order', async () => {
              const expected = await rows(
                `SELECT category AS name, count(*)::int AS value ${where()} GROUP BY 1`,
              );
              const w = source();
              const o = options();
              const counts = await w.getCategories({
                ...o,
                column: 'category',
                operation: 'count',
              });
              expect(byName(counts)).toEqual(byName(expected));
              const values = counts.map((r) => r.value);
              expect(values).toEqual([...values].sort((a, b) => b - a));

              const sums = await rows(
                `SELECT category AS name, sum(amount)::float8 AS value ${where()} GROUP BY 1`,
              );
              const summed = await w.getCategories({
                ...o,
                column: 'category',
                operation: 'sum',
                operationColumn: 'amount',
              });
              expect(byName(summed)).toEqual(byName(sums));

              const ascending = await w.getCategories({
                ...o,
                column: 'category',
                operation: 'count',
                orderBy: 'frequency_asc',
              });
              const ascValues = ascending.map((r) => r.value);
              expect(ascValues).toEqual([...ascValues].sort((a, b) => a - b));
              expect(byName(ascending)).toEqual(byName(expected));
              const named = (list: Row[]) =>
                list.map((r) => r.name).filter((n): n is string => n !== null);
              const alpha = await w.getCategories({
                ...o,
                column: 'category',
                operation: 'count',
                orderBy: 'alphabetical_asc',
              });
              expect(named(alpha)).toEqual(named(expected).sort());
              expect(byName(alpha)).toEqual(byName(expected));
              const reverse = await w.getCategories({
                ...o,
                column: 'category',
                operation: 'count',
                orderBy: 'alphabetical_desc',
              });
              expect(named(reverse)).toEqual(named(expected).sort().reverse());
            });

            it('answers getCategories with othersThreshold: top ones and the rest', async () => {
              const expected = (
                await rows(`SELECT category AS name, count(*)::int AS value ${where()} GROUP BY 1`)
              ).sort((a, b) => b.value - a.value);
              const total = expected.reduce((sum, r) => sum + r.value, 0);
              const result = await source().getCategories({
                ...options(),
                column: 'category',
                operation: 'count',
                othersThreshold: 2,
              });
              const top = result.filter((r) => r.name !== '_carto_others');
              const others = result.find((r) => r.name === '_carto_others');
              expect(top.map((r) => r.value)).toEqual(expected.slice(0, 2).map((r) => r.value));
              for (const r of top) expect(byName(expected).get(r.name)).toBe(r.value);
              expect(Number(others?.value ?? 0)).toBe(
                total - top.reduce((sum, r) => sum + Number(r.value), 0),
              );
            });

            it('answers getHistogram by bin index', async () => {
              const ticks = [10, 30, 60, 90];
              const counted = await rows(
                `SELECT CASE WHEN amount < 10 THEN 0 WHEN amount < 30 THEN 1 WHEN amount < 60
                             THEN 2 WHEN amount < 90 THEN 3 ELSE 4 END AS bin,
                        count(*)::int AS n, sum(score)::float8 AS s
                   ${where()} AND amount IS NOT NULL GROUP BY 1`,
              );
              const expected = Array(ticks.length + 1).fill(0);
              for (const r of counted) expected[r.bin] = r.n;
              const histogram = await source().getHistogram({
                ...options(),
                column: 'amount',
                operation: 'count',
                ticks,
              });
              expect(histogram).toEqual(counted.length === 0 ? [] : expected);

              const floats = await rows(
                `SELECT CASE WHEN score < 2.5 THEN 0 WHEN score < 7.5 THEN 1 ELSE 2 END AS bin,
                        count(*)::int AS n ${where()} AND score IS NOT NULL GROUP BY 1`,
              );
              const expectedFloats = [0, 0, 0];
              for (const r of floats) expectedFloats[r.bin] = r.n;
              const floatHistogram = await source().getHistogram({
                ...options(),
                column: 'score',
                operation: 'count',
                ticks: [2.5, 7.5],
              });
              expect(floatHistogram).toEqual(floats.length === 0 ? [] : expectedFloats);
            });

            it('answers getRange as SQL min and max', async () => {
              const [expected] = await rows(
                `SELECT min(amount) AS amin, max(amount) AS amax, min(score) AS smin,
                        max(score) AS smax ${where()}`,
              );
              const amount = await source().getRange({ ...options(), column: 'amount' });
              expect(amount).toEqual({ min: expected!.amin, max: expected!.amax });
              const score = await source().getRange({ ...options(), column: 'score' });
              expectClose(score?.min ?? null, expected!.smin);
              expectClose(score?.max ?? null, expected!.smax);
            });

            it('answers getScatter with the same pairs as SQL', async () => {
              const expected = await rows(
                `SELECT amount AS x, score AS y ${where()}
                    AND amount IS NOT NULL AND score IS NOT NULL`,
              );
              const points = await source().getScatter({
                ...options(),
                xAxisColumn: 'amount',
                yAxisColumn: 'score',
              });
              const key = (p: number[]) => `${p[0]}|${p[1]}`;
              expect(points.map(key).sort()).toEqual(expected.map((r) => key([r.x, r.y])).sort());
            });

            it('answers getTimeSeries per year, quarter, week, day, 6 h and 15 min', async () => {
              const steps = [
                {
                  stepSize: 'day',
                  multiplier: 1,
                  trunc: `date_trunc('day', t AT TIME ZONE 'UTC')`,
                },
                {
                  stepSize: 'week',
                  multiplier: 1,
                  trunc: `date_trunc('week', t AT TIME ZONE 'UTC')`,
                },
                {
                  stepSize: 'month',
                  multiplier: 3,
                  trunc: `date_trunc('quarter', t AT TIME ZONE 'UTC')`,
                },
                {
                  stepSize: 'year',
                  multiplier: 1,
                  trunc: `date_trunc('year', t AT TIME ZONE 'UTC')`,
                },
                {
                  stepSize: 'minute',
                  multiplier: 15,
                  trunc: `TIMESTAMP 'epoch' + INTERVAL '900 seconds'
                            * floor(EXTRACT(EPOCH FROM t) / 900)`,
                },
                {
                  stepSize: 'hour',
                  multiplier: 6,
                  trunc: `date_trunc('day', t AT TIME ZONE 'UTC') + INTERVAL '6 hours'
                            * floor(EXTRACT(HOUR FROM t AT TIME ZONE 'UTC') / 6)`,
                },
              ] as const;
              for (const step of steps) {
                const expected = await rows(
                  `SELECT EXTRACT(EPOCH FROM ${step.trunc})::float8 * 1000 AS ms,
                          count(*)::int AS n, sum(amount)::float8 AS s
                     ${where()} GROUP BY 1 ORDER BY 1`,
                );
                const counted = await source().getTimeSeries({
                  ...options(),
                  column: 't',
                  stepSize: step.stepSize,
                  stepMultiplier: step.multiplier,
                  operation: 'count',
                });
                expect(
                  counted.rows.map((r) => [Date.parse(r.name as unknown as string), r.value]),
                  `${step.stepSize} × ${step.multiplier}`,
                ).toEqual(expected.map((r) => [r.ms, r.n]));
                const summed = await source().getTimeSeries({
                  ...options(),
                  column: 't',
                  stepSize: step.stepSize,
                  stepMultiplier: step.multiplier,
                  operation: 'sum',
                  operationColumn: 'amount',
                });
                expect(summed.rows.map((r) => r.value)).toEqual(expected.map((r) => r.s));
              }
            });

            it('answers getTimeSeries split by chosen categories', async () => {
              const expected = await rows(
                `SELECT EXTRACT(EPOCH FROM date_trunc('month', t AT TIME ZONE 'UTC'))::float8
                          * 1000 AS ms, category, count(*)::int AS n
                   ${where()} AND category IN ('a', 'c') GROUP BY 1, 2 ORDER BY 1, 2`,
              );
              const split = await source().getTimeSeries({
                ...options(),
                column: 't',
                stepSize: 'month',
                operation: 'count',
                splitByCategory: 'category',
                splitByCategoryValues: ['a', 'c'],
              });
              const shape = (r: Row) => [Date.parse(r.name), r.category, r.value];
              expect(split.rows.map(shape).sort()).toEqual(
                expected.map((r) => [r.ms, r.category, r.n]).sort(),
              );
              expect([...(split.categories ?? [])].sort()).toEqual(
                [...new Set(expected.map((r) => r.category))].sort(),
              );
            });

            it('answers getTable pages sorted either way with the total count', async () => {
              const [{ total }] = (await rows(`SELECT count(*)::int AS total ${where()}`)) as [Row];
              const expected = await rows(
                `SELECT id, name, amount ${where()} ORDER BY id DESC LIMIT 7 OFFSET 3`,
              );
              const page = await source().getTable({
                ...options(),
                columns: ['id', 'name', 'amount'],
                sortBy: 'id',
                sortDirection: 'desc',
                limit: 7,
                offset: 3,
              });
              expect(page.totalCount).toBe(total);
              expect(page.rows).toEqual(expected);

              const byAmount = await source().getTable({
                ...options(),
                columns: ['id', 'amount'],
                sortBy: 'amount',
                sortDirection: 'asc',
                limit: 20,
              });
              const amounts = await rows(`SELECT amount ${where()} ORDER BY amount LIMIT 20`);
              expect(byAmount.rows.map((r) => r.amount)).toEqual(amounts.map((r) => r.amount));
              expect(byAmount.totalCount).toBe(total);
            });

            it('answers getAggregations given as a list and as SQL text', async () => {
              const [expected] = await rows(
                `SELECT count(*)::int AS n, sum(amount)::float8 AS total, avg(score)::float8
                        AS mean, max(score) AS top, min(amount) AS low ${where()}`,
              );
              const listed = await source().getAggregations({
                ...options(),
                aggregations: [
                  { column: '*', operation: 'count', alias: 'n' },
                  { column: 'amount', operation: 'sum', alias: 'total' },
                  { column: 'score', operation: 'avg', alias: 'mean' },
                  { column: 'amount', operation: 'min', alias: 'low' },
                ],
              });
              expect(listed.rows).toHaveLength(1);
              const row = listed.rows[0]!;
              expect(row.n).toBe(expected!.n);
              expectClose(row.total, expected!.total);
              expectClose(row.mean, expected!.mean);
              expect(row.low ?? null).toBe(expected!.low);

              const text = await source().getAggregations({
                ...options(),
                aggregations: 'sum(amount) AS total, max(score) AS top, count(*) AS n',
              });
              expectClose(text.rows[0]!.total, expected!.total);
              expectClose(text.rows[0]!.top, expected!.top);
              expect(Number(text.rows[0]!.n)).toBe(expected!.n);
            });
          });
        }

        it('splits a time series by the most frequent categories', async () => {
          const w = sources[kind]!.and;
          const result = await w.getTimeSeries({
            column: 't',
            stepSize: 'month',
            operation: 'count',
            splitByCategory: 'category',
            splitByCategoryLimit: 2,
          });
          const expected = await rows(
            `SELECT EXTRACT(EPOCH FROM date_trunc('month', t AT TIME ZONE 'UTC'))::float8
                      * 1000 AS ms, category, count(*)::int AS n
               FROM ${table} WHERE category IN ('a', 'b') GROUP BY 1, 2`,
          );
          const top = await rows(
            `SELECT category FROM ${table} GROUP BY 1 ORDER BY count(*) DESC LIMIT 2`,
          );
          expect(top.map((r) => r.category).sort()).toEqual(['a', 'b']);
          expect([...(result.categories ?? [])].sort()).toEqual(['a', 'b']);
          const shape = (r: Row) => [Date.parse(r.name), r.category, r.value];
          expect(result.rows.map(shape).sort()).toEqual(
            expected.map((r) => [r.ms, r.category, r.n]).sort(),
          );
        });

        it('counts the rows of a NULL category as that category, as the client does', async () => {
          // The client's own category computation (groupValuesByColumn) counts every row of a
          // group for 'count', whatever its value; the null group is a group like the others.
          const expected = await rows(
            `SELECT kind AS name, count(*)::int AS value FROM ${table} GROUP BY 1`,
          );
          expect(byName(expected).get(null)).toBeGreaterThan(0);
          const result = await sources[kind]!.and.getCategories({
            column: 'kind',
            operation: 'count',
          });
          expect(byName(result)).toEqual(byName(expected));
        });

        it('puts the rows of a NULL category outside the top ones into others', async () => {
          const [{ n }] = (await rows(
            `SELECT count(*)::int AS n FROM ${table} WHERE kind IS DISTINCT FROM 'y'`,
          )) as [Row];
          const [{ y }] = (await rows(
            `SELECT count(*)::int AS y FROM ${table} WHERE kind = 'y'`,
          )) as [Row];
          const result = await sources[kind]!.and.getCategories({
            column: 'kind',
            operation: 'count',
            othersThreshold: 1,
          });
          expect(result).toEqual([
            { name: 'y', value: y },
            { name: '_carto_others', value: n },
          ]);
        });

        it('keeps the anchors of a regular expression in stringSearch', async () => {
          // The client matches a regular expression as written; only feature values lose
          // their accents. Its own local filter is the reference, next to plain SQL.
          const filters: Filters = {
            name: { stringSearch: { values: ['^s', 'ich 1\\d$'], params: { useRegExp: true } } },
          };
          const all = await rows(`SELECT id, name FROM ${table}`);
          const local = applyFilters(all as any[], filters, 'and').map((r: Row) => r.id);
          const [{ n }] = (await rows(
            `SELECT count(*)::int AS n FROM ${table}
              WHERE name LIKE 'São %' OR name ~ '^Zürich 1[0-9]$'`,
          )) as [Row];
          expect(local).toHaveLength(n);
          const w = sources[kind]!.and;
          expect(await w.getFormula({ operation: 'count', filters })).toEqual({ value: n });
          const page = await w.getTable({ columns: ['id'], filters, sortBy: 'id', limit: 1000 });
          expect(page.rows.map((r) => r.id)).toEqual([...local].sort((a, b) => a - b));
        });

        it('answers "Column not found" for a column the source does not have', async () => {
          await expect(
            sources[kind]!.and.getFormula({ column: 'no_such_column', operation: 'sum' }),
          ).rejects.toThrow(/Column not found/);
        });
      });
    }

    describe('other source shapes', () => {
      const times = `public.${uniqueName('widget_times')}`;
      const cells = `public.${uniqueName('widget_cells')}`;
      const common = () => ({ apiBaseUrl: baseUrl, accessToken, connectionName });
      const querySource = (sqlQuery: string, extra: Record<string, unknown> = {}) =>
        new WidgetQuerySource({ ...common(), sqlQuery, ...extra });

      beforeAll(async () => {
        await target().setUp(
          [
            `CREATE TABLE ${times} (
               id int, d date, ts timestamp, tz timestamptz, ms bigint,
               geom geometry(Point, 4326))`,
            `INSERT INTO ${times}
             SELECT g, DATE '2024-01-01' + g, TIMESTAMP '2024-01-01 10:00' + g * INTERVAL '1 day',
                    TIMESTAMPTZ '2024-01-01 10:00Z' + g * INTERVAL '1 day',
                    1704103200000 + g * CAST(86400000 AS bigint),
                    ST_SetSRID(ST_MakePoint(g, 0), 4326)
               FROM generate_series(1, 40) AS g`,
            `CREATE TABLE ${cells} (id int, qb bigint, h3 text)`,
            `INSERT INTO ${cells} VALUES
               (1, 5209574053332910079, '8928308280fffff'),
               (2, 5209574053332910078, '8928308280bffff'),
               (3, 5209574053332910079, '89283082807ffff')`,
          ],
          [times, cells],
        );
      });

      it('filters projected and geography sources by WGS84 viewports', async () => {
        const [expected] = await rows(
          `SELECT count(*) FILTER (WHERE ST_X(geom) BETWEEN -10 AND 5
                                     AND ST_Y(geom) BETWEEN 35 AND 44)::int AS iberia,
                  count(*) FILTER (WHERE (ST_X(geom) >= 170 OR ST_X(geom) <= -170)
                                     AND ST_Y(geom) BETWEEN -25 AND -10)::int AS fiji
             FROM demo.populated_places`,
        );
        for (const sqlQuery of [
          'SELECT id, ST_Transform(geom, 3857) AS geom FROM demo.populated_places',
          'SELECT id, CAST(geom AS geography) AS geom FROM demo.populated_places',
        ]) {
          const w = querySource(sqlQuery);
          const iberia = await w.getFormula({
            operation: 'count',
            spatialFilter: box(-10, 35, 5, 44),
          });
          expect(iberia.value, sqlQuery).toBe(expected!.iberia);
          const fiji = await w.getFormula({
            operation: 'count',
            spatialFilter: box(170, -25, 190, -10),
          });
          expect(fiji.value, sqlQuery).toBe(expected!.fiji);
        }
      });

      it('reads geometries without an SRID as WGS84 under a viewport', async () => {
        // A source whose geometries carry SRID 0 is read as longitude and latitude.
        const [{ n }] = (await rows(
          `SELECT count(*)::int AS n FROM demo.populated_places
            WHERE ST_X(geom) BETWEEN -10 AND 5 AND ST_Y(geom) BETWEEN 35 AND 44`,
        )) as [Row];
        const w = querySource('SELECT id, ST_SetSRID(geom, 0) AS geom FROM demo.populated_places');
        expect(
          await w.getFormula({ operation: 'count', spatialFilter: box(-10, 35, 5, 44) }),
        ).toEqual({ value: n });
      });

      it('answers every widget over a source without rows', async () => {
        const w = querySource('SELECT * FROM demo.populated_places WHERE id < 0');
        const [empty] = await rows(
          'SELECT count(*)::int AS n FROM demo.populated_places WHERE id < 0',
        );
        expect(empty).toEqual({ n: 0 });
        expect(await w.getFormula({ operation: 'count' })).toEqual({ value: 0 });
        expect(await w.getFormula({ column: 'population', operation: 'sum' })).toEqual({
          value: null,
        });
        expect(await w.getCategories({ column: 'country', operation: 'count' })).toEqual([]);
        expect(
          await w.getHistogram({ column: 'population', operation: 'count', ticks: [1, 2] }),
        ).toEqual([]);
        expect(await w.getRange({ column: 'population' })).toEqual({ min: null, max: null });
        expect(await w.getScatter({ xAxisColumn: 'population', yAxisColumn: 'id' })).toEqual([]);
        expect(await w.getTable({ columns: ['name'] })).toEqual({ rows: [], totalCount: 0 });
      });

      it('answers the top categories and the rest for a column called value', async () => {
        const w = querySource(`SELECT id, category AS value, geom FROM ${table}`);
        const expected = await rows(
          `SELECT category AS name, count(*)::int AS value FROM ${table}
            GROUP BY 1 ORDER BY 2 DESC LIMIT 2`,
        );
        const result = await w.getCategories({
          column: 'value',
          operation: 'count',
          othersThreshold: 2,
        });
        expect(result).toEqual([
          ...expected,
          { name: '_carto_others', value: FIXTURE_ROWS - expected[0]!.value - expected[1]!.value },
        ]);
      });

      it('wraps a query source with a CTE, ORDER BY and LIMIT', async () => {
        const sqlQuery = `WITH firsts AS (
            SELECT * FROM demo.populated_places ORDER BY id LIMIT 100000)
          SELECT * FROM firsts ORDER BY population DESC`;
        const [expected] = await rows(
          `SELECT count(*)::int AS n, sum(population)::float8 AS s FROM (${sqlQuery}) AS q
            WHERE ST_X(geom) BETWEEN -10 AND 5 AND ST_Y(geom) BETWEEN 35 AND 44`,
        );
        const w = querySource(sqlQuery);
        const spatialFilter = box(-10, 35, 5, 44);
        expect((await w.getFormula({ operation: 'count', spatialFilter })).value).toBe(expected!.n);
        const sum = await w.getFormula({ column: 'population', operation: 'sum', spatialFilter });
        expectClose(sum.value, expected!.s);
      });

      for (const column of ['d', 'ts', 'tz', 'ms']) {
        it(`buckets, filters and ranges time held as ${column}`, async () => {
          // Each kind holds the same instants (dates: midnight UTC); ms holds epoch milliseconds.
          const instant =
            column === 'ms'
              ? `(TIMESTAMPTZ 'epoch' + ms * INTERVAL '1 millisecond')`
              : column === 'tz'
                ? 'tz'
                : `(CAST(${column} AS timestamp) AT TIME ZONE 'UTC')`;
          const w = (await vectorTableSource({ ...common(), tableName: times })).widgetSource;
          const expected = await rows(
            `SELECT EXTRACT(EPOCH FROM date_trunc('week', ${instant} AT TIME ZONE 'UTC'))::float8
                      * 1000 AS ms, count(*)::int AS n
               FROM ${times} GROUP BY 1 ORDER BY 1`,
          );
          const series = await w.getTimeSeries({ column, stepSize: 'week', operation: 'count' });
          expect(
            series.rows.map((r) => [Date.parse(r.name as unknown as string), r.value]),
          ).toEqual(expected.map((r) => [r.ms, r.n]));

          const from = Date.parse(column === 'd' ? '2024-01-10T00:00:00Z' : '2024-01-10T10:00:00Z');
          const to = from + 5 * 86_400_000;
          const [{ n }] = (await rows(
            `SELECT count(*)::int AS n FROM ${times}
              WHERE EXTRACT(EPOCH FROM ${instant}) * 1000 BETWEEN $1 AND $2`,
            [from, to],
          )) as [Row];
          expect(n).toBe(6);
          const filters = { [column]: { time: { values: [[from, to]] } } };
          expect(await w.getFormula({ operation: 'count', filters })).toEqual({ value: n });

          const range = await w.getRange({ column });
          const [sqlRange] = await rows(`SELECT min(${column}) AS min, max(${column}) AS max
                                           FROM ${times}`);
          expect(range).toEqual(sqlRange);
        });
      }

      it('filters quadbin and h3 sources by lists of cells', async () => {
        const quadbin = querySource(`SELECT id, qb FROM ${cells}`, {
          spatialDataType: 'quadbin',
          spatialDataColumn: 'qb',
        });
        const [{ q }] = (await rows(
          `SELECT count(*)::int AS q FROM ${cells} WHERE qb = 5209574053332910079`,
        )) as [Row];
        const byQuadbin = await quadbin.getFormula({
          operation: 'count',
          spatialFilter: { indexes: ['0x484c1fffffffffff'], type: 'quadbin' } as any,
        });
        expect(byQuadbin).toEqual({ value: q });

        const h3 = querySource(`SELECT id, h3 FROM ${cells}`, {
          spatialDataType: 'h3',
          spatialDataColumn: 'h3',
        });
        const [{ h }] = (await rows(
          `SELECT count(*)::int AS h FROM ${cells}
            WHERE h3 IN ('8928308280fffff', '89283082807ffff')`,
        )) as [Row];
        const byH3 = await h3.getCategories({
          column: 'id',
          operation: 'count',
          spatialFilter: { indexes: ['8928308280fffff', '89283082807ffff'], type: 'h3' } as any,
        });
        expect(byH3.reduce((sum, r) => sum + r.value, 0)).toBe(h);
      });

      it('searches a table widget by text, accents folded, when asked directly', async () => {
        const answer = await callModel(baseUrl, accessToken, connectionName, 'table', {
          type: 'table',
          source: table,
          params: {
            column: ['id', 'name'],
            searchFilterColumn: 'name',
            searchFilterText: 'BOGOTA 1',
            sortBy: 'id',
            limit: 100,
          },
          queryParameters: '',
          filters: {},
        });
        expect(answer.status, answer.text).toBe(200);
        const expected = await rows(
          `SELECT id, name FROM ${table} WHERE name LIKE 'Bogotá 1%' ORDER BY id`,
        );
        expect(answer.body.rows).toEqual(expected);
        expect(answer.body.metadata.total).toBe(expected.length);
      });

      it('answers 400 naming featureIds for ids that no tile gave', async () => {
        const w = sources.table!.and;
        await expect(
          w.getFeatures({ columns: ['id'], dataType: 'points', featureIds: ['1'], z: 3 }),
        ).rejects.toThrow(/featureIds/);
        await expect(
          w.getFormula({ operation: 'count', featureIds: ['1'], geometryType: 'points' }),
        ).rejects.toThrow(/featureIds/);
      });
    });

    describe('over demo.populated_places', () => {
      let places: AnyWidgetSource;
      let spain: AnyWidgetSource;

      beforeAll(async () => {
        const common = { apiBaseUrl: baseUrl, accessToken, connectionName };
        places = (await vectorTableSource({ ...common, tableName: 'demo.populated_places' }))
          .widgetSource;
        spain = (
          await vectorQuerySource({
            ...common,
            sqlQuery: 'SELECT * FROM demo.populated_places WHERE country = $1',
            queryParameters: ['ES'],
          })
        ).widgetSource;
      });

      it('answers formulas over the whole table and a parameterised query', async () => {
        const [all] = await rows(
          `SELECT count(*)::int AS n, sum(population)::float8 AS s, avg(population)::float8 AS a,
                  min(population)::float8 AS mn, max(population)::float8 AS mx
             FROM demo.populated_places`,
        );
        expect((await places.getFormula({ operation: 'count' })).value).toBe(all!.n);
        for (const [operation, key] of [
          ['sum', 's'],
          ['avg', 'a'],
          ['min', 'mn'],
          ['max', 'mx'],
        ] as const) {
          const result = await places.getFormula({ column: 'population', operation });
          expectClose(result.value, all![key]);
        }
        const [es] = await rows(
          `SELECT count(*)::int AS n, sum(population)::float8 AS s
             FROM demo.populated_places WHERE country = $1`,
          ['ES'],
        );
        expect((await spain.getFormula({ operation: 'count' })).value).toBe(es!.n);
        expectClose(
          (await spain.getFormula({ column: 'population', operation: 'sum' })).value,
          es!.s,
        );
      });

      it('counts the places of a viewport and of one across the antimeridian', async () => {
        const [counts] = await rows(
          `SELECT count(*) FILTER (WHERE ST_X(geom) BETWEEN -10 AND 5
                                     AND ST_Y(geom) BETWEEN 35 AND 44)::int AS iberia,
                  count(*) FILTER (WHERE (ST_X(geom) >= 170 OR ST_X(geom) <= -170)
                                     AND ST_Y(geom) BETWEEN -25 AND -10)::int AS fiji,
                  sum(population) FILTER (WHERE (ST_X(geom) >= 170 OR ST_X(geom) <= -170)
                                     AND ST_Y(geom) BETWEEN -25 AND -10)::float8 AS fiji_pop
             FROM demo.populated_places`,
        );
        expect(counts!.fiji).toBeGreaterThan(0);
        const iberia = await places.getFormula({
          operation: 'count',
          spatialFilter: box(-10, 35, 5, 44),
        });
        expect(iberia.value).toBe(counts!.iberia);
        const fiji = await places.getFormula({
          operation: 'count',
          spatialFilter: box(170, -25, 190, -10),
        });
        expect(fiji.value).toBe(counts!.fiji);
        const westOfIt = await places.getFormula({
          column: 'population',
          operation: 'sum',
          spatialFilter: box(-190, -25, -170, -10),
        });
        const [west] = await rows(
          `SELECT sum(population)::float8 AS s FROM demo.populated_places
            WHERE (ST_X(geom) >= 170 OR ST_X(geom) <= -170) AND ST_Y(geom) BETWEEN -25 AND -10`,
        );
        expectClose(westOfIt.value, west!.s);
        expectClose(west!.s, counts!.fiji_pop);
      });

      it('answers the top countries and the rest', async () => {
        const expected = await rows(
          `SELECT country AS name, count(*)::int AS value FROM demo.populated_places
            GROUP BY 1 ORDER BY 2 DESC LIMIT 5`,
        );
        const [{ n }] = (await rows('SELECT count(*)::int AS n FROM demo.populated_places')) as [
          Row,
        ];
        const result = await places.getCategories({
          column: 'country',
          operation: 'count',
          othersThreshold: 5,
        });
        expect(result.slice(0, 5)).toEqual(expected);
        expect(result[5]).toEqual({
          name: '_carto_others',
          value: n - expected.reduce((sum, r) => sum + r.value, 0),
        });
      });

      it('answers the top names and the rest for a column called name', async () => {
        const top = await rows(
          `SELECT name, count(*)::int AS value FROM demo.populated_places
            GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3`,
        );
        const [{ n }] = (await rows('SELECT count(*)::int AS n FROM demo.populated_places')) as [
          Row,
        ];
        const result = await places.getCategories({
          column: 'name',
          operation: 'count',
          othersThreshold: 3,
        });
        expect(result.slice(0, 3).map((r) => r.value)).toEqual(top.map((r) => r.value));
        expect(result[3]).toEqual({
          name: '_carto_others',
          value: n - top.reduce((sum, r) => sum + r.value, 0),
        });
      });

      it('answers a population histogram, range and sorted table', async () => {
        const ticks = [1_000, 10_000, 100_000, 1_000_000];
        const bins = await rows(
          `SELECT width_bucket(population::float8, ARRAY[1000, 10000, 100000, 1000000]::float8[])
                    AS bin, count(*)::int AS n
             FROM demo.populated_places WHERE population IS NOT NULL GROUP BY 1`,
        );
        const expected = Array(ticks.length + 1).fill(0);
        for (const r of bins) expected[r.bin] = r.n;
        expect(
          await places.getHistogram({ column: 'population', operation: 'count', ticks }),
        ).toEqual(expected);

        const [range] = await rows(
          'SELECT min(population) AS min, max(population) AS max FROM demo.populated_places',
        );
        expect(await places.getRange({ column: 'population' })).toEqual(range);

        const top = await rows(
          `SELECT population FROM demo.populated_places
            ORDER BY population DESC NULLS LAST LIMIT 5 OFFSET 5`,
        );
        const page = await places.getTable({
          columns: ['name', 'population'],
          sortBy: 'population',
          sortDirection: 'desc',
          limit: 5,
          offset: 5,
        });
        expect(page.rows.map((r) => r.population)).toEqual(top.map((r) => r.population));
        expect(page.totalCount).toBeGreaterThan(130_000);
      });
    });
  });
}

widgetSuite(() => embeddedTarget(baseUrl, () => accessToken));
if (postgres) {
  const info = postgres;
  widgetSuite(
    () => postgresTarget(info, 'pg_widgets'),
    async () => {
      await ensurePostgresDemoData(info);
      await createPostgresConnection(baseUrl, accessToken, info, 'pg_widgets');
    },
  );
} else {
  describe.skip('widgets through CARTO client on a PostgreSQL connection (not installed)', () => {
    it('needs PostgreSQL', () => undefined);
  });
}
