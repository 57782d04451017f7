import {
  vectorQuerySource,
  vectorTableSource,
  WidgetQuerySource,
  type QueryParameters,
  type SpatialFilter,
  type WidgetRemoteSource,
} from '@carto/api-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { createPostgresConnection } from './support/postgres-demo.js';
import { describeWithPostgres, pollUntil, runAsSuperuser } from './support/postgres.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import {
  callModel,
  embeddedTarget,
  postgresTarget,
  sqlRows,
  uniqueName,
  type WidgetTarget,
} from './support/widget-targets.js';

/**
 * The widget side of the real-world fault cases: quoted identifiers (B04), NaN and infinities
 * (B07), query sources ending in semicolons or comments (B08), timeouts (B10), broken
 * geometries (B16), unicode (B25), query parameters (B26) and time zones (B29). Expected
 * figures come from the case text or from SQL the test runs itself.
 */

const { baseUrl, clientId, clientSecret } = sharedServer();
const postgres = inject('postgres');
let accessToken = '';

beforeAll(async () => {
  accessToken = await fetchToken(baseUrl, clientId, clientSecret);
});

type Row = Record<string, any>;
type AnyWidgetSource = WidgetRemoteSource<any>;

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

/** No bare NaN or Infinity token outside strings: what JSON.parse would refuse. */
const BARE_SPECIAL_NUMBER = /(^|[[,:\s])-?(NaN|Infinity)(?=[\]},\s]|$)/;
/** Text a database or GEOS error would leak. */
const ENGINE_TEXT = /GEOS|TopologyException|lwgeom|PostGIS|SQLSTATE|syntax error/i;

function caseSuite(target: () => WidgetTarget, prepare?: () => Promise<void>) {
  let connectionName = '';
  const rows = (q: string, params?: QueryParameters) =>
    sqlRows<Row>(baseUrl, accessToken, connectionName, q, params);
  const model = (name: string, fields: Record<string, unknown>, method?: 'GET' | 'POST') =>
    callModel(baseUrl, accessToken, connectionName, name, fields, method);
  const common = () => ({ apiBaseUrl: baseUrl, accessToken, connectionName });

  describe(`widget fault cases on ${target().connectionName}`, () => {
    beforeAll(async () => {
      if (prepare) await prepare();
      connectionName = target().connectionName;
    });

    describe('B04 quoted identifiers', () => {
      const table = `public."${uniqueName('CityPoints')}"`;
      let source: AnyWidgetSource;

      beforeAll(async () => {
        await target().setUp(
          [
            `CREATE TABLE ${table} ("Name" text, "order" int, "pop 2020" bigint,
               "Geom" geometry(Point, 4326))`,
            `INSERT INTO ${table} VALUES
               ('Alpha', 1, 100, ST_SetSRID(ST_MakePoint(2.35, 48.85), 4326)),
               ('Beta', 2, 200, ST_SetSRID(ST_MakePoint(13.40, 52.52), 4326)),
               ('Gamma', 3, 300, ST_SetSRID(ST_MakePoint(-0.12, 51.50), 4326))`,
          ],
          [table],
        );
        source = (
          await vectorTableSource({ ...common(), tableName: table, spatialDataColumn: 'Geom' })
        ).widgetSource;
      });

      it('serves a category widget on "Name" and a sum of "pop 2020"', async () => {
        const expected = await rows(
          `SELECT "Name" AS name, count(*)::int AS value FROM ${table} GROUP BY 1`,
        );
        const categories = await source.getCategories({ column: 'Name', operation: 'count' });
        expect(
          [...categories].sort((a, b) => String(a.name).localeCompare(String(b.name))),
        ).toEqual(expected.sort((a, b) => a.name.localeCompare(b.name)));
        const [{ s }] = (await rows(`SELECT sum("pop 2020")::int AS s FROM ${table}`)) as [Row];
        expect(s).toBe(600);
        expect(await source.getFormula({ column: 'pop 2020', operation: 'sum' })).toEqual({
          value: s,
        });
      });

      it('filters, sorts and spatially filters on those columns', async () => {
        const page = await source.getTable({
          columns: ['Name', 'order', 'pop 2020'],
          sortBy: 'order',
          sortDirection: 'desc',
          filters: { 'pop 2020': { between: { values: [[100, 200]] } } },
        });
        const expected = await rows(
          `SELECT "Name", "order", "pop 2020"::int AS "pop 2020" FROM ${table}
            WHERE "pop 2020" BETWEEN 100 AND 200 ORDER BY "order" DESC`,
        );
        expect(page.rows.map((r) => ({ ...r, 'pop 2020': Number(r['pop 2020']) }))).toEqual(
          expected,
        );
        expect(page.totalCount).toBe(2);
        const near = await source.getFormula({
          operation: 'count',
          spatialFilter: box(-1, 48, 3, 52),
        });
        const [{ n }] = (await rows(
          `SELECT count(*)::int AS n FROM ${table}
            WHERE ST_X("Geom") BETWEEN -1 AND 3 AND ST_Y("Geom") BETWEEN 48 AND 52`,
        )) as [Row];
        expect(near.value).toBe(n);
        const histogram = await source.getHistogram({
          column: 'order',
          operation: 'sum',
          ticks: [2],
        });
        expect(histogram).toEqual([1, 5]);
      });

      it('serves the same columns from a query source', async () => {
        const { widgetSource } = await vectorQuerySource({
          ...common(),
          sqlQuery: `SELECT "Name", "order", "pop 2020", "Geom" FROM ${table}`,
          spatialDataColumn: 'Geom',
        });
        const filters = {
          'pop 2020': { closed_open: { values: [[100, 300]] } },
          Name: { stringSearch: { values: ['a'], params: { mustEnd: true } } },
        };
        const [{ s }] = (await rows(
          `SELECT sum("order")::int AS s FROM ${table}
            WHERE "pop 2020" >= 100 AND "pop 2020" < 300 AND "Name" ILIKE '%a'`,
        )) as [Row];
        expect(
          await widgetSource.getFormula({ column: 'order', operation: 'sum', filters }),
        ).toEqual({ value: s });
        const series = await widgetSource.getCategories({
          column: 'order',
          operation: 'max',
          operationColumn: 'pop 2020',
          spatialFilter: box(-1, 48, 3, 52),
        });
        const expected = await rows(
          `SELECT "order" AS name, max("pop 2020")::int AS value FROM ${table}
            WHERE ST_X("Geom") BETWEEN -1 AND 3 AND ST_Y("Geom") BETWEEN 48 AND 52 GROUP BY 1`,
        );
        expect(new Set(series.map((r) => JSON.stringify([r.name, Number(r.value)])))).toEqual(
          new Set(expected.map((r) => JSON.stringify([r.name, r.value]))),
        );
      });

      it('refuses a hostile column name without running it', async () => {
        const hostile = 'x"; DROP TABLE t; --';
        await expect(source.getFormula({ column: hostile, operation: 'sum' })).rejects.toThrow(
          /Column not found/,
        );
        await expect(source.getTable({ columns: ['Name', hostile] })).rejects.toThrow(
          /Column not found/,
        );
        const [{ n }] = (await rows(`SELECT count(*)::int AS n FROM ${table}`)) as [Row];
        expect(n).toBe(3);
      });
    });

    describe('B07 NaN and infinities', () => {
      const table = `public.${uniqueName('b07_vals')}`;
      let source: AnyWidgetSource;
      const fields = (model: Record<string, unknown>) => ({
        type: 'table',
        source: table,
        params: model,
        queryParameters: '',
        filters: {},
      });

      beforeAll(async () => {
        await target().setUp(
          [
            `CREATE TABLE ${table} (id int PRIMARY KEY, v float8, geom geometry(Point, 4326))`,
            `INSERT INTO ${table} VALUES
               (1, 1.5, ST_SetSRID(ST_MakePoint(0, 0), 4326)),
               (2, 'NaN', ST_SetSRID(ST_MakePoint(1, 0), 4326)),
               (3, 'Infinity', ST_SetSRID(ST_MakePoint(2, 0), 4326)),
               (4, '-Infinity', ST_SetSRID(ST_MakePoint(3, 0), 4326)),
               (5, NULL, ST_SetSRID(ST_MakePoint(4, 0), 4326))`,
          ],
          [table],
        );
        source = (await vectorTableSource({ ...common(), tableName: table })).widgetSource;
      });

      it('leaves non-finite values out of formulas, histogram, range and scatter', async () => {
        const [finite] = await rows(
          `SELECT max(v) AS mx, min(v) AS mn, sum(v) AS s, avg(v) AS a FROM ${table}
            WHERE v NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)`,
        );
        expect(finite).toEqual({ mx: 1.5, mn: 1.5, s: 1.5, a: 1.5 });
        expect(await source.getFormula({ column: 'v', operation: 'max' })).toEqual({ value: 1.5 });
        expect(await source.getFormula({ column: 'v', operation: 'min' })).toEqual({ value: 1.5 });
        expect(await source.getFormula({ column: 'v', operation: 'sum' })).toEqual({ value: 1.5 });
        expect(await source.getFormula({ column: 'v', operation: 'avg' })).toEqual({ value: 1.5 });
        expect(
          await source.getHistogram({ column: 'v', operation: 'count', ticks: [0, 1, 2] }),
        ).toEqual([0, 0, 1, 0]);
        expect(await source.getRange({ column: 'v' })).toEqual({ min: 1.5, max: 1.5 });
        expect(await source.getScatter({ xAxisColumn: 'v', yAxisColumn: 'id' })).toEqual([
          [1.5, 1],
        ]);
      });

      it('answers strictly valid JSON from every model over the column', async () => {
        const calls: [string, Record<string, unknown>][] = [
          ['formula', { column: 'v', operation: 'max' }],
          ['histogram', { column: 'v', operation: 'count', ticks: [0, 1, 2] }],
          ['range', { column: 'v' }],
          ['scatterplot', { xAxisColumn: 'v', yAxisColumn: 'id', limit: 500 }],
          ['category', { column: 'v', operation: 'count', operationColumn: 'v' }],
          ['table', { column: ['id', 'v'], sortBy: 'id', limit: 10, offset: 0 }],
          ['aggregations', { aggregations: 'max(v) AS mx, count(*) AS n' }],
        ];
        for (const [name, params] of calls) {
          const answer = await model(name, fields(params));
          expect(answer.status, `${name}: ${answer.text}`).toBe(200);
          expect(answer.body, name).toBeDefined();
          expect(answer.text, name).not.toMatch(BARE_SPECIAL_NUMBER);
        }
      });

      it('keeps special values apart from real NULLs in the table widget', async () => {
        const page = await source.getTable({ columns: ['id', 'v'], sortBy: 'id', limit: 10 });
        const byId = new Map(page.rows.map((r) => [r.id, r.v]));
        expect(byId.get(1)).toBe(1.5);
        expect(byId.get(5)).toBeNull();
        const specials = [2, 3, 4].map((id) => byId.get(id));
        // Either all null, or all strings naming the value; never a mix.
        const kinds = new Set(specials.map((v) => (v === null ? 'null' : typeof v)));
        expect(kinds.size).toBe(1);
        expect(['null', 'string']).toContain([...kinds][0]);
      });
    });

    describe('B08 query sources ending in semicolons or comments', () => {
      const table = `public.${uniqueName('b08_t')}`;

      beforeAll(async () => {
        await target().setUp(
          [
            `CREATE TABLE ${table} (id int PRIMARY KEY, geom geometry(Point, 4326))`,
            `INSERT INTO ${table} VALUES (1, ST_SetSRID(ST_MakePoint(10, 10), 4326))`,
          ],
          [table],
        );
      });

      const variants = [
        ['trailing semicolon', (t: string) => `SELECT geom, id FROM ${t};`],
        ['semicolon, spaces and newlines', (t: string) => `SELECT geom, id FROM ${t} ;  \n\n`],
        ['trailing line comment', (t: string) => `SELECT geom, id FROM ${t} -- last line comment`],
        ['block comments', (t: string) => `/* lead */ SELECT geom, id FROM ${t} /* tail */;`],
      ] as const;
      for (const [label, sqlOf] of variants) {
        it(`counts and lists the rows of a source with a ${label}`, async () => {
          const { widgetSource } = await vectorQuerySource({ ...common(), sqlQuery: sqlOf(table) });
          expect(await widgetSource.getFormula({ operation: 'count' })).toEqual({ value: 1 });
          const page = await widgetSource.getTable({ columns: ['id'] });
          expect(page).toEqual({ rows: [{ id: 1 }], totalCount: 1 });
          expect(await widgetSource.getCategories({ column: 'id', operation: 'count' })).toEqual([
            { name: 1, value: 1 },
          ]);
        });
      }

      it('keeps a semicolon inside a literal', async () => {
        const { widgetSource } = await vectorQuerySource({
          ...common(),
          sqlQuery: `SELECT ';' AS s, geom FROM ${table}`,
        });
        expect(await widgetSource.getCategories({ column: 's', operation: 'count' })).toEqual([
          { name: ';', value: 1 },
        ]);
        expect((await widgetSource.getTable({ columns: ['s'] })).rows).toEqual([{ s: ';' }]);
      });

      it('refuses two statements with a clear 400', async () => {
        const answer = await model('formula', {
          type: 'query',
          source: 'SELECT 1 AS a; SELECT 2 AS a',
          params: { operation: 'count' },
          queryParameters: '',
          filters: {},
        });
        expect(answer.status).toBe(400);
        expect(answer.body.error).toMatch(/statement/i);
        const widgetSource = new WidgetQuerySource({
          ...common(),
          sqlQuery: 'SELECT 1 AS a; SELECT 2 AS a',
        });
        await expect(widgetSource.getFormula({ operation: 'count' })).rejects.toThrow(/statement/);
      });
    });

    describe('B16 invalid, degenerate, NULL and EMPTY geometries', () => {
      const table = `public.${uniqueName('b16')}`;
      let source: AnyWidgetSource;

      beforeAll(async () => {
        await target().setUp(
          [
            `CREATE TABLE ${table} (id int PRIMARY KEY, geom geometry(Geometry, 4326))`,
            `INSERT INTO ${table} VALUES
               (1, ST_GeomFromText('POLYGON((1 1,2 1,2 2,1 2,1 1))', 4326)),
               (2, ST_GeomFromText('POLYGON((0 0,2 2,2 0,0 2,0 0))', 4326)),
               (3, ST_GeomFromText('POLYGON((5 5,6 6,6 6,5 5))', 4326)),
               (4, NULL),
               (5, ST_GeomFromText('POLYGON EMPTY', 4326)),
               (6, ST_SetSRID(ST_MakePoint('NaN'::float8, 1), 4326))`,
          ],
          [table],
        );
        source = (await vectorTableSource({ ...common(), tableName: table })).widgetSource;
      });

      it('counts every row without a spatial filter', async () => {
        const [{ n }] = (await rows(`SELECT count(*)::int AS n FROM ${table}`)) as [Row];
        expect(n).toBe(6);
        expect(await source.getFormula({ operation: 'count' })).toEqual({ value: n });
      });

      it('keeps only intersecting valid rows under a spatial filter, without a 500', async () => {
        const spatialFilter = box(0, 0, 3, 3);
        const count = await model('formula', {
          type: 'table',
          source: table,
          params: { operation: 'count' },
          queryParameters: '',
          filters: {},
          spatialFilters: { geom: spatialFilter },
        });
        expect(count.status, count.text).toBe(200);
        expect(count.text).not.toMatch(ENGINE_TEXT);
        // Row 1 always; the bow-tie (row 2) may be kept (repaired) or left out.
        expect([1, 2]).toContain(count.body.rows[0].value);
        const page = await source.getTable({ columns: ['id'], sortBy: 'id', spatialFilter });
        const ids = page.rows.map((r) => r.id);
        expect(ids).toContain(1);
        for (const id of [3, 4, 5, 6]) expect(ids).not.toContain(id);
        expect(page.totalCount).toBe(ids.length);
        expect(ids.length).toBe(count.body.rows[0].value);
      });

      it('answers other viewports over the broken rows without a 500', async () => {
        for (const spatialFilter of [box(4, 4, 7, 7), box(-180, -85, 180, 85)]) {
          const answer = await model('category', {
            type: 'table',
            source: table,
            params: { column: 'id', operation: 'count', operationColumn: 'id' },
            queryParameters: '',
            filters: {},
            spatialFilters: { geom: spatialFilter },
          });
          expect(answer.status, answer.text).toBe(200);
          expect(answer.text).not.toMatch(ENGINE_TEXT);
          const ids = (answer.body.rows as Row[]).map((r) => r.name);
          for (const id of [4, 5]) expect(ids).not.toContain(id);
        }
      });
    });

    describe('B25 unicode names and values', () => {
      const table = `public."${uniqueName('ciudades_españa')}"`;
      let source: AnyWidgetSource;

      beforeAll(async () => {
        await target().setUp(
          [
            `CREATE TABLE ${table} ("población" int, "名前" text, geom geometry(Point, 4326))`,
            `INSERT INTO ${table} VALUES
               (245000, 'A Coruña', ST_SetSRID(ST_MakePoint(-8.41, 43.36), 4326)),
               (14000000, '東京', ST_SetSRID(ST_MakePoint(139.69, 35.69), 4326)),
               (1, 'emoji 🗺️', ST_SetSRID(ST_MakePoint(0, 0), 4326)),
               (2, E'quote " and backslash \\\\', ST_SetSRID(ST_MakePoint(1, 1), 4326))`,
          ],
          [table],
        );
        source = (await vectorTableSource({ ...common(), tableName: table })).widgetSource;
      });

      it('returns the category names byte for byte', async () => {
        const expected = await rows(
          `SELECT "名前" AS name, count(*)::int AS value FROM ${table} GROUP BY 1`,
        );
        expect(expected.map((r) => r.name).sort()).toEqual(
          ['A Coruña', '東京', 'emoji 🗺️', 'quote " and backslash \\'].sort(),
        );
        const categories = await source.getCategories({
          column: '名前',
          operation: 'sum',
          operationColumn: 'población',
          orderBy: 'alphabetical_asc',
        });
        const sums = await rows(
          `SELECT "名前" AS name, sum("población")::int AS value FROM ${table} GROUP BY 1`,
        );
        expect(new Set(categories)).toEqual(new Set(sums));
        expect(categories.map((c) => c.name)).toEqual(sums.map((r) => r.name).sort());
      });

      it('filters and sums on non-ASCII columns', async () => {
        const coruna = await source.getFormula({
          column: 'población',
          operation: 'sum',
          filters: { 名前: { stringSearch: { values: ['coruna'] } } },
        });
        expect(coruna).toEqual({ value: 245000 });
        const tokyo = await source.getTable({
          columns: ['名前', 'población'],
          filters: { 名前: { in: { values: ['東京'] } } },
        });
        const sql = `SELECT "名前", "población" FROM ${table} WHERE "名前" = $1`;
        const expected = await rows(sql, ['東京']);
        expect(tokyo.rows).toEqual(expected);
      });
    });

    describe('B26 query parameters', () => {
      const table = `public.${uniqueName('b26')}`;

      beforeAll(async () => {
        await target().setUp(
          [
            `CREATE TABLE ${table} (id int PRIMARY KEY, name text, day date,
               geom geometry(Point, 4326))`,
            `INSERT INTO ${table} VALUES
               (1, 'alpha', '2023-12-31', ST_SetSRID(ST_MakePoint(0, 0), 4326)),
               (2, 'beta', '2024-02-01', ST_SetSRID(ST_MakePoint(1, 1), 4326))`,
          ],
          [table],
        );
      });

      const querySource = async (sqlQuery: string, queryParameters: QueryParameters) =>
        (await vectorQuerySource({ ...common(), sqlQuery, queryParameters })).widgetSource;

      it('binds a typed comparison and counts as SQL does', async () => {
        const sqlQuery = `SELECT * FROM ${table} WHERE day > $1`;
        const source = await querySource(sqlQuery, ['2024-01-01']);
        const expected = await rows(`SELECT count(*)::int AS n FROM (${sqlQuery}) AS q`, [
          '2024-01-01',
        ]);
        expect(expected).toEqual([{ n: 1 }]);
        expect(await source.getFormula({ operation: 'count' })).toEqual({ value: 1 });
        // The widget's own filter values come after the source's bound values.
        expect(
          await source.getFormula({
            operation: 'count',
            filters: { name: { in: { values: ['beta'] } } },
          }),
        ).toEqual({ value: 1 });
        expect(
          await source.getFormula({
            operation: 'count',
            filters: { name: { in: { values: ['alpha'] } }, id: { between: { values: [[1, 2]] } } },
          }),
        ).toEqual({ value: 0 });
        expect(
          (await source.getTable({ columns: ['name'], filters: { id: { in: { values: [2] } } } }))
            .rows,
        ).toEqual([{ name: 'beta' }]);
      });

      it('binds a value that looks like SQL instead of splicing it', async () => {
        const source = await querySource(`SELECT * FROM ${table} WHERE name = $1`, [
          "x' OR '1'='1",
        ]);
        expect(await source.getFormula({ operation: 'count' })).toEqual({ value: 0 });
      });

      it('leaves a placeholder inside a literal alone', async () => {
        const source = await querySource(`SELECT '$1' AS lit, * FROM ${table} WHERE id = $1`, [1]);
        expect((await source.getTable({ columns: ['lit', 'id', 'name'] })).rows).toEqual([
          { lit: '$1', id: 1, name: 'alpha' },
        ]);
        expect(await source.getCategories({ column: 'lit', operation: 'count' })).toEqual([
          { name: '$1', value: 1 },
        ]);
      });

      it('refuses a placeholder count that does not match the values with 400', async () => {
        for (const [q, values] of [
          [`SELECT * FROM ${table} WHERE id = $1 OR id = $2`, [1]],
          [`SELECT * FROM ${table} WHERE id = $1`, [1, 2, 3]],
        ] as const) {
          const answer = await model('formula', {
            type: 'query',
            source: q,
            params: { operation: 'count' },
            queryParameters: values,
            filters: {},
          });
          expect(answer.status, answer.text).toBe(400);
          expect(typeof answer.body.error).toBe('string');
          expect(answer.body.error).not.toMatch(ENGINE_TEXT);
        }
      });

      it('answers the same to GET with JSON text and POST with an array', async () => {
        const fields = {
          type: 'query',
          source: `SELECT * FROM ${table} WHERE day > $1`,
          params: { column: ['id', 'name'], limit: 10, offset: 0 },
          queryParameters: ['2024-01-01'],
          filters: {},
        };
        const viaGet = await model('table', fields, 'GET');
        const viaPost = await model('table', fields, 'POST');
        expect(viaGet.status).toBe(200);
        expect(viaPost.status).toBe(200);
        expect(viaGet.body).toEqual(viaPost.body);
        expect(viaGet.body.rows).toEqual([{ id: 2, name: 'beta' }]);
      });
    });

    describe('B29 time series in time zones', () => {
      const table = `public.${uniqueName('b29')}`;
      let source: AnyWidgetSource;
      const iso = (text: string) => new Date(text).toISOString();

      beforeAll(async () => {
        await target().setUp(
          [
            `CREATE TABLE ${table} (id int PRIMARY KEY, t timestamptz, geom geometry(Point, 4326))`,
            `INSERT INTO ${table} VALUES
               (1, '1970-01-02 00:00:00+00', ST_SetSRID(ST_MakePoint(-2.46, 41.76), 4326)),
               (2, '1970-01-02 01:00:00+00', ST_SetSRID(ST_MakePoint(-0.88, 41.65), 4326)),
               (3, '2024-03-31 00:30:00+00', ST_SetSRID(ST_MakePoint(-3.70, 40.42), 4326)),
               (4, '2024-03-31 01:30:00+00', ST_SetSRID(ST_MakePoint(-3.71, 40.43), 4326)),
               (5, '2024-06-01 12:00:00+05:30', ST_SetSRID(ST_MakePoint(77.2, 28.6), 4326))`,
          ],
          [table],
        );
        source = (await vectorTableSource({ ...common(), tableName: table })).widgetSource;
      });

      /** Day buckets worked out by hand from the zone rules (offsets noted per row). */
      const BY_HAND: Record<string, [string, number][]> = {
        UTC: [
          ['1970-01-02T00:00:00Z', 2],
          ['2024-03-31T00:00:00Z', 2],
          ['2024-06-01T00:00:00Z', 1],
        ],
        // -01:00 in 1970 and until 2024-03-31T01:00Z, then +00:00 (DST); local midnight of
        // 31 March does not exist, the day starts at 01:00Z.
        'Atlantic/Azores': [
          ['1970-01-01T01:00:00Z', 1],
          ['1970-01-02T01:00:00Z', 1],
          ['2024-03-30T01:00:00Z', 1],
          ['2024-03-31T01:00:00Z', 1],
          ['2024-06-01T00:00:00Z', 1],
        ],
        // +05:30 all year.
        'Asia/Kolkata': [
          ['1970-01-01T18:30:00Z', 2],
          ['2024-03-30T18:30:00Z', 2],
          ['2024-05-31T18:30:00Z', 1],
        ],
        // +01:00 in 1970 and in winter, +02:00 from 2024-03-31T01:00Z.
        'Europe/Madrid': [
          ['1970-01-01T23:00:00Z', 2],
          ['2024-03-30T23:00:00Z', 2],
          ['2024-05-31T22:00:00Z', 1],
        ],
      };

      const bySql = async (zone: string) =>
        (
          await rows(
            `SELECT EXTRACT(EPOCH FROM date_trunc('day', t AT TIME ZONE $1) AT TIME ZONE $1)
                      ::float8 * 1000 AS ms, count(*)::int AS n
               FROM ${table} GROUP BY 1 ORDER BY 1`,
            [zone],
          )
        ).map((r) => [new Date(r.ms).toISOString(), r.n]);

      it('buckets days in UTC through the client, as by hand and by SQL', async () => {
        const series = await source.getTimeSeries({
          column: 't',
          stepSize: 'day',
          operation: 'count',
        });
        const expected = BY_HAND.UTC!.map(([at, n]) => [iso(at), n]);
        expect(series.rows.map((r) => [iso(r.name as unknown as string), r.value])).toEqual(
          expected,
        );
        expect(await bySql('UTC')).toEqual(expected);
      });

      for (const zone of ['UTC', 'Atlantic/Azores', 'Asia/Kolkata', 'Europe/Madrid']) {
        it(`buckets days in ${zone}, as by hand and by SQL`, async () => {
          const answer = await model('timeseries', {
            type: 'table',
            source: table,
            params: { column: 't', stepSize: 'day', operation: 'count', timezone: zone },
            queryParameters: '',
            filters: {},
          });
          expect(answer.status, answer.text).toBe(200);
          const expected = BY_HAND[zone]!.map(([at, n]) => [iso(at), n]);
          const got = (answer.body.rows as Row[]).map((r) => [iso(r.name), r.value]);
          expect(got).toEqual(expected);
          expect(await bySql(zone)).toEqual(expected);
          expect(got.reduce((sum, [, n]) => sum + Number(n), 0)).toBe(5);
        });
      }

      it('refuses an unknown time zone with 400', async () => {
        const answer = await model('timeseries', {
          type: 'table',
          source: table,
          params: { column: 't', stepSize: 'day', operation: 'count', timezone: 'Mars/Olympus' },
          queryParameters: '',
          filters: {},
        });
        expect(answer.status).toBe(400);
      });

      it('keeps exactly the 00:30Z row under the time filter [00:00Z, 01:00Z]', async () => {
        const filters = {
          t: {
            time: {
              values: [[Date.parse('2024-03-31T00:00:00Z'), Date.parse('2024-03-31T01:00:00Z')]],
            },
          },
        };
        expect(await source.getFormula({ operation: 'count', filters })).toEqual({ value: 1 });
        expect((await source.getTable({ columns: ['id'], filters })).rows).toEqual([{ id: 3 }]);
        const series = await source.getTimeSeries({
          column: 't',
          stepSize: 'hour',
          operation: 'count',
          filters,
        });
        expect(series.rows.map((r) => [iso(r.name as unknown as string), r.value])).toEqual([
          [iso('2024-03-31T00:00:00Z'), 1],
        ]);
      });
    });
  });
}

caseSuite(() => embeddedTarget(baseUrl, () => accessToken));
if (postgres) {
  const info = postgres;
  caseSuite(
    () => postgresTarget(info, 'pg_widget_cases'),
    () => createPostgresConnection(baseUrl, accessToken, info, 'pg_widget_cases'),
  );
} else {
  describe.skip('widget fault cases on a PostgreSQL connection (not installed)', () => {
    it('needs PostgreSQL', () => undefined);
  });
}

/**
 * B10: a formula widget over a slow source ends with the timeout's JSON error, its statement
 * is gone from the database right after, and the next widget call is served. On a server of
 * its own with a short statement timeout.
 */
describeWithPostgres('B10 widget timeouts on a PostgreSQL connection', (pg) => {
  let server: ServerProcess;
  let token = '';
  const table = `public.${uniqueName('b10_t')}`;

  beforeAll(async () => {
    server = await startServerProcess({
      loadDemoData: false,
      env: { GRATICULE_QUERY_TIMEOUT_MS: '2000' },
    });
    token = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    await createPostgresConnection(server.baseUrl, token, pg, 'pg_b10');
    await postgresTarget(pg, 'pg_b10').setUp(
      [
        `CREATE TABLE ${table} (id int PRIMARY KEY, geom geometry(Point, 4326))`,
        `INSERT INTO ${table}
         SELECT g, ST_SetSRID(ST_MakePoint(g % 10, g / 10), 4326) FROM generate_series(1, 100) g`,
      ],
      [table],
    );
  });
  afterAll(async () => server?.stop());

  /** Our backends still running a statement that contains `marker`. */
  const running = async (marker: string) => {
    const found = await runAsSuperuser<{ n: number }>(
      pg,
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()`,
      [`%${marker}%`],
    );
    return found[0]!.n;
  };

  it('ends a slow formula with a JSON timeout error and stops its statement', async () => {
    const slow = `SELECT geom, id, 'b10_widget_probe' AS probe FROM ${table}
                   WHERE pg_sleep(0.2) IS NOT NULL`;
    const answer = await callModel(server.baseUrl, token, 'pg_b10', 'formula', {
      type: 'query',
      source: slow,
      params: { operation: 'count' },
      queryParameters: '',
      filters: {},
    });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('query_timeout');
    expect(answer.body.error).toMatch(/timed out|timeout/i);
    expect(await pollUntil(async () => (await running('b10_widget_probe')) === 0, 5_000)).toBe(
      true,
    );

    // The map instantiation of this source times out too (it reads the rows for tilestats),
    // so the widget source is made as vectorQuerySource makes it.
    const widgetSource = new WidgetQuerySource({
      apiBaseUrl: server.baseUrl,
      accessToken: token,
      connectionName: 'pg_b10',
      sqlQuery: slow.replace('b10_widget_probe', 'b10_client_probe'),
    });
    await expect(widgetSource.getFormula({ operation: 'count' })).rejects.toThrow(
      /timed out|timeout/i,
    );
    expect(await pollUntil(async () => (await running('b10_client_probe')) === 0, 5_000)).toBe(
      true,
    );

    const fast = (
      await vectorTableSource({
        apiBaseUrl: server.baseUrl,
        accessToken: token,
        connectionName: 'pg_b10',
        tableName: table,
      })
    ).widgetSource;
    expect(await fast.getFormula({ operation: 'count' })).toEqual({ value: 100 });
  });
});

describe('B10 widget timeouts on the embedded warehouse', () => {
  let server: ServerProcess;
  let token = '';
  const table = `public.${uniqueName('b10_t')}`;

  beforeAll(async () => {
    server = await startServerProcess({
      loadDemoData: false,
      env: { GRATICULE_QUERY_TIMEOUT_MS: '2000' },
    });
    token = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    await embeddedTarget(server.baseUrl, () => token).setUp(
      [
        `CREATE TABLE ${table} (id int PRIMARY KEY, geom geometry(Point, 4326))`,
        `INSERT INTO ${table}
         SELECT g, ST_SetSRID(ST_MakePoint(g % 10, g / 10), 4326) FROM generate_series(1, 100) g`,
      ],
      [table],
    );
  });
  afterAll(async () => server?.stop());

  it('ends a slow formula with a JSON timeout error, then serves the next call', async () => {
    const widgetSource = new WidgetQuerySource({
      apiBaseUrl: server.baseUrl,
      accessToken: token,
      connectionName: 'carto_dw',
      sqlQuery: `SELECT geom, id FROM ${table} WHERE pg_sleep(0.2) IS NOT NULL`,
    });
    const answer = await callModel(server.baseUrl, token, 'carto_dw', 'formula', {
      type: 'query',
      source: widgetSource.props.sqlQuery,
      params: { operation: 'count' },
      queryParameters: '',
      filters: {},
    });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('query_timeout');
    expect(answer.body.error).toMatch(/timed out|timeout/i);
    await expect(widgetSource.getFormula({ operation: 'count' })).rejects.toThrow(
      /timed out|timeout/i,
    );

    const fast = (
      await vectorTableSource({
        apiBaseUrl: server.baseUrl,
        accessToken: token,
        connectionName: 'carto_dw',
        tableName: table,
      })
    ).widgetSource;
    expect(await fast.getFormula({ operation: 'count' })).toEqual({ value: 100 });
  });
});
