import { expect, it } from 'vitest';
import { describeWithPostgres, useFixtureSchema } from '../../test/support/postgres.js';
import { GOLDEN_CASES, renderGoldenCase } from '../test-support/widget-golden-cases.js';

/** Rows of the golden fixture: names with accents, NULLs, NaN and infinities, two years. */
const FIXTURE = `
  DROP SCHEMA IF EXISTS widget_golden CASCADE;
  CREATE SCHEMA widget_golden;
  CREATE TABLE widget_golden.fixture (
    id int4, "Name" text, "pop 2020" int8, v float8, t timestamptz, geom geometry(Point, 4326)
  );
  INSERT INTO widget_golden.fixture VALUES
    (1, 'A Coruña', 250000, 0.5, '2024-01-01 10:00+00', 'SRID=4326;POINT(-8.4 43.4)'),
    (2, 'Madrid', 3300000, 1.5, '2024-01-01 20:00+00', ST_SetSRID(ST_MakePoint(-3.7, 40.4), 4326)),
    (3, 'Madrid', 10, 'NaN', '2024-02-15 00:00+00', ST_SetSRID(ST_MakePoint(-3.6, 40.5), 4326)),
    (4, 'A', 20, 'Infinity', '2024-05-01 00:00+00', ST_SetSRID(ST_MakePoint(2.2, 41.4), 4326)),
    (5, NULL, NULL, NULL, '1970-01-01 12:00+00', ST_SetSRID(ST_MakePoint(151.2, -33.9), 4326)),
    (6, 'Coruche', 20000, 4.5, '2023-12-31 23:30+00', NULL),
    (7, 'Tokyo', 14000000, '-Infinity', NULL, ST_SetSRID(ST_MakePoint(139.7, 35.7), 4326));
`;

/**
 * Redshift spells month arithmetic with add_months and hex WKB with ST_AsHexWKB, which
 * PostgreSQL lacks.
 */
const NOT_PORTABLE_TO_POSTGRES = new Set([
  'timeseries-quarter-split',
  'pick',
  'formula-feature-ids',
]);

describeWithPostgres('widget SQL of the PostgreSQL family, run for real', (info) => {
  const driverOf = useFixtureSchema(info, 'widget_golden', FIXTURE);

  async function run(dialect: 'postgis' | 'redshift', name: string) {
    const golden = GOLDEN_CASES.find((c) => c.name === name)!;
    const statements = await renderGoldenCase(dialect, golden, 'widget_golden.fixture');
    const results = [];
    for (const { text, params } of statements) {
      results.push((await driverOf().query({ sql: text, params, timeoutMs: 10_000 })).rows);
    }
    return results;
  }

  it.each(GOLDEN_CASES.map((c) => c.name))('%s runs and both dialects agree', async (name) => {
    const postgis = await run('postgis', name);
    expect(postgis.length).toBeGreaterThan(0);
    if (NOT_PORTABLE_TO_POSTGRES.has(name)) return;
    expect(await run('redshift', name)).toEqual(postgis);
  });

  it('computes the figures the fixture holds', async () => {
    const value = async (name: string) => (await run('postgis', name))[0]![0]!.value;
    expect(await value('formula-count')).toBe(7);
    expect(await value('formula-sum')).toBe(250000 + 3300000 + 10 + 20 + 20000 + 14000000);
    // NaN and the infinities are skipped.
    expect(await value('formula-max-float')).toBe(4.5);
    expect(await value('formula-custom')).toBe(2 * (1 + 2 + 3 + 4 + 5 + 6 + 7));
    // Viewport over Spain, OR id 1/2 or v in [1, 2]: ids 1, 2, 3, 4 are in Spain's box.
    expect(await value('formula-or-viewport')).toBe(2);
    const [histogram] = await run('postgis', 'histogram');
    // Ticks 0, 1, 2: 0.5 → bin 1, 1.5 → bin 2, 4.5 → bin 3.
    expect(histogram).toEqual([
      { tick: 1, value: 1 },
      { tick: 2, value: 1 },
      { tick: 3, value: 1 },
    ]);
    const [range] = await run('postgis', 'range');
    expect(range).toEqual([{ min: 0.5, max: 4.5 }]);
  });
});
