import { describe, expect, it } from 'vitest';
import { describeWithPostgres, useFixtureSchema } from '../../test/support/postgres.js';
import { QUANTILE_FRACTIONS } from '../maps/tilestats.js';
import { dialectNamed, type DialectName } from '../sql-builder/dialect.js';
import { identifier, render, sql, value } from '../sql-builder/sql.js';
import type { WarehouseField } from '../warehouses/driver.js';
import { PreparedSource, readWidgetSource } from '../widgets/widget-source.js';
import { quantileSqlFor } from './stats-dialect.js';
import { columnStats, sourceStats, type AttributeStats } from './stats-service.js';
import { categoriesStatement, summaryStatement, type SummaryColumn } from './stats-sql.js';

const DIALECTS: DialectName[] = ['postgis', 'redshift', 'bigquery', 'snowflake', 'databricks'];

const FIELDS = {
  id: { name: 'id', nativeType: 'int4', cartoType: 'number' },
  label: { name: 'Label', nativeType: 'text', cartoType: 'string' },
  v: { name: 'v', nativeType: 'float8', cartoType: 'number' },
  t: { name: 't', nativeType: 'timestamptz', cartoType: 'timestamp' },
  geom: { name: 'geom', nativeType: 'geometry', cartoType: 'geometry' },
  code: { name: 'code', nativeType: 'inet', cartoType: 'unknown' },
} satisfies Record<string, WarehouseField>;

/** The statements of the Stats API for one dialect, over `table`, keeping rows with id ≤ 10. */
function goldenStatements(name: DialectName, table = 'stats_golden.fixture') {
  const dialect = dialectNamed(name);
  const source = {
    dialect,
    from: dialect.table(table),
    where: sql`${identifier('id')} <= ${value(10)}`,
  };
  const summary: SummaryColumn[] = [
    { kind: 'number', field: FIELDS.id },
    { kind: 'number', field: FIELDS.v },
    { kind: 'time', field: FIELDS.t },
    { kind: 'extent', field: FIELDS.geom, srid: 3857 },
  ];
  return {
    summary: render(summaryStatement(source, summary), dialect),
    categories: render(categoriesStatement(source, FIELDS.label), dialect),
    categoriesAsText: render(categoriesStatement(source, FIELDS.code, true), dialect),
    unfiltered: render(summaryStatement({ ...source, where: null }, []), dialect),
  };
}

describe.each(DIALECTS)('stats SQL for %s', (name) => {
  it.each(['summary', 'categories', 'categoriesAsText', 'unfiltered'] as const)(
    'matches the golden %s statement',
    async (statement) => {
      const { text, params } = goldenStatements(name)[statement];
      await expect(`${text};\n-- params: ${JSON.stringify(params)}\n`).toMatchFileSnapshot(
        `./golden/${name}/${statement}.sql`,
      );
    },
  );

  it('reads one break per quantile fraction back from a row', () => {
    const quantiles = quantileSqlFor(name);
    const items = quantiles.items(identifier('x'), 'q');
    const aliases = items.map((item) => {
      const { text } = render(item, dialectNamed(name));
      return text.slice(text.lastIndexOf(' AS ') + 4);
    });
    const row: Record<string, unknown> = {};
    for (const alias of aliases) {
      const key = JSON.parse(alias.replace(/`/g, '"')) as string;
      // An array-returning function answers every break at once; BigQuery adds min and max.
      row[key] =
        items.length > 1
          ? Number(key.slice(2))
          : name === 'bigquery'
            ? Array.from({ length: 1001 }, (_, i) => i)
            : QUANTILE_FRACTIONS.map((_, i) => i);
    }
    const breaks = quantiles.read(row, 'q');
    expect(breaks).toHaveLength(QUANTILE_FRACTIONS.length);
    if (name === 'bigquery') {
      expect(breaks![0]).toBe(Math.round(QUANTILE_FRACTIONS[0]! * 1000));
    } else {
      expect(breaks).toEqual(QUANTILE_FRACTIONS.map((_, i) => i));
    }
    expect(quantiles.read({}, 'q')?.every((b) => b === null) ?? true).toBe(true);
  });
});

/** Rows with NaN, infinities and NULLs; `id` 11 and 12 fall outside the golden filter. */
const FIXTURE = `
  DROP SCHEMA IF EXISTS stats_golden CASCADE;
  CREATE SCHEMA stats_golden;
  CREATE TABLE stats_golden.fixture (
    id int4, "Label" text, v float8, t timestamptz, code inet, flag bool,
    geom geometry(Point, 3857)
  );
  INSERT INTO stats_golden.fixture
  SELECT id, label, v, t::timestamptz, code::inet, flag,
         ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 3857)
  FROM (VALUES
    (1, 'b', 1.5, '2024-01-01 10:00+00', '10.0.0.1', true, -8.4, 43.4),
    (2, 'a', 'NaN', '2024-01-02 10:00+00', '10.0.0.1', false, -3.7, 40.4),
    (3, 'b', 3, NULL, NULL, true, 2.2, 41.4),
    (4, NULL, 'Infinity', '2023-06-30 00:00+00', '10.0.0.2', NULL, 151.2, -33.9),
    (5, 'c', NULL, '2024-03-01 00:00+00', NULL, true, 139.7, 35.7),
    (6, 'b', 7.25, NULL, NULL, false, -70.6, -33.4),
    (7, 'a', '-Infinity', NULL, NULL, true, 12.5, 41.9),
    (8, 'c', 2, NULL, NULL, true, -0.1, 51.5),
    (9, 'b', 10, NULL, NULL, false, 18.4, -33.9),
    (10, 'd', 4, '2022-02-02 02:02+00', NULL, true, -99.1, 19.4),
    (11, 'z', 1000, '2030-01-01 00:00+00', NULL, true, 170, 70),
    (12, 'z', -1000, '2010-01-01 00:00+00', NULL, true, -170, -70)
  ) AS f(id, label, v, t, code, flag, lon, lat);
  CREATE TABLE stats_golden.empty (LIKE stats_golden.fixture);
  CREATE TABLE stats_golden.nulls (LIKE stats_golden.fixture);
  INSERT INTO stats_golden.nulls (id) VALUES (1), (2);
`;

/** `percentile_disc`: the first value whose cumulative share reaches the fraction. */
function percentileDisc(sorted: number[], fraction: number): number {
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)]!;
}

function expectedQuantiles(values: number[]): Record<string, number[]> {
  const sorted = [...values].sort((a, b) => a - b);
  const quantiles: Record<string, number[]> = {};
  for (let n = 3; n <= 20; n += 1) {
    quantiles[String(n)] = Array.from({ length: n - 1 }, (_, k) =>
      percentileDisc(sorted, Math.round(((k + 1) / n) * 1e12) / 1e12),
    );
  }
  return quantiles;
}

describeWithPostgres('stats SQL on PostGIS, run for real', (info) => {
  const driverOf = useFixtureSchema(info, 'stats_golden', FIXTURE);

  async function run({ text, params }: { text: string; params: unknown[] }) {
    return (await driverOf().query({ sql: text, params, timeoutMs: 10_000 })).rows;
  }

  it('runs the golden summary and skips NaN, infinities and rows outside the filter', async () => {
    const [row] = await run(goldenStatements('postgis').summary);
    const finite = [1.5, 3, 7.25, 2, 10, 4];
    expect(Number(row!.count)).toBe(10);
    expect(Number(row!.c1_min)).toBe(1.5);
    expect(Number(row!.c1_max)).toBe(10);
    expect(Number(row!.c1_sum)).toBe(27.75);
    expect(Number(row!.c1_avg)).toBeCloseTo(27.75 / 6, 10);
    const breaks = quantileSqlFor('postgis').read(row!, 'c1_q')!.map(Number);
    expect(breaks).toEqual(
      QUANTILE_FRACTIONS.map((f) =>
        percentileDisc(
          [...finite].sort((a, b) => a - b),
          f,
        ),
      ),
    );
    expect(row!.c2_min).toBe('2022-02-02T02:02:00.000Z');
    expect(row!.c2_max).toBe('2024-03-01T00:00:00.000Z');
    expect(Number(row!.c3_xmin)).toBeCloseTo(-99.1, 6);
    expect(Number(row!.c3_ymin)).toBeCloseTo(-33.9, 6);
    expect(Number(row!.c3_xmax)).toBeCloseTo(151.2, 6);
    expect(Number(row!.c3_ymax)).toBeCloseTo(51.5, 6);
  });

  it('runs the golden category statements, most frequent first', async () => {
    const rows = await run(goldenStatements('postgis').categories);
    expect(rows.map((r) => [r.category, Number(r.frequency)])).toEqual([
      ['b', 4],
      ['a', 2],
      ['c', 2],
      ['d', 1],
    ]);
    const text = await run(goldenStatements('postgis').categoriesAsText);
    expect(text.map((r) => [r.category, Number(r.frequency)])).toEqual([
      ['10.0.0.1/32', 2],
      ['10.0.0.2/32', 1],
    ]);
  });

  async function open(table: string, extra: Record<string, unknown> = {}) {
    const request = readWidgetSource(
      { type: 'table', source: table, ...extra },
      { type: 'type', source: 'source' },
    );
    return PreparedSource.open(request, { driver: driverOf(), timeoutMs: 10_000 });
  }

  it('answers a number column as a tilestats attribute, with every quantile', async () => {
    const filters = JSON.stringify({ id: { between: { values: [[null, 10]] } } });
    const stats = await columnStats(await open('stats_golden.fixture', { filters }), 'v');
    expect(stats).toEqual({
      attribute: 'v',
      type: 'Number',
      avg: 27.75 / 6,
      sum: 27.75,
      min: 1.5,
      max: 10,
      quantiles: expectedQuantiles([1.5, 3, 7.25, 2, 10, 4]),
    });
  });

  it('answers nulls for empty and all-NULL sources', async () => {
    for (const table of ['stats_golden.empty', 'stats_golden.nulls']) {
      const source = await open(table);
      expect(await columnStats(source, 'v')).toEqual({
        attribute: 'v',
        type: 'Number',
        avg: null,
        sum: null,
        min: null,
        max: null,
        quantiles: null,
      });
      expect(await columnStats(source, 't')).toEqual({
        attribute: 't',
        type: 'Timestamp',
        min: null,
        max: null,
      });
      expect(await columnStats(source, 'Label')).toEqual({
        attribute: 'Label',
        type: 'String',
        categories: [],
      });
      expect(await columnStats(source, 'geom')).toEqual({
        extent: { xmin: null, ymin: null, xmax: null, ymax: null },
      });
    }
  });

  it('answers every column of a table, in table order', async () => {
    const stats = await sourceStats(await open('stats_golden.fixture'));
    expect(stats.count).toBe(12);
    expect(stats.attributes.map((a) => [a.attribute, a.type])).toEqual([
      ['id', 'Number'],
      ['Label', 'String'],
      ['v', 'Number'],
      ['t', 'Timestamp'],
      ['code', 'String'],
      ['flag', 'Boolean'],
    ]);
    const byName = new Map(stats.attributes.map((a) => [a.attribute, a] as const));
    const flag = byName.get('flag') as AttributeStats;
    expect(flag.categories).toEqual([
      { category: true, frequency: 8 },
      { category: false, frequency: 3 },
    ]);
    expect(byName.get('v')).toMatchObject({ min: -1000, max: 1000, sum: 27.75 });
    expect(byName.get('id')).toMatchObject({ min: 1, max: 12, sum: 78, avg: 6.5 });
    expect(stats.extent!.xmin).toBeCloseTo(-170, 6);
    expect(stats.extent!.ymax).toBeCloseTo(70, 6);
  });
});
