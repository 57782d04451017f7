import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoData, type DemoDataProgress, type DemoDataResult } from './demo-data.js';
import { EmbeddedWarehouse } from './embedded-warehouse.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-demo-'));
let warehouse: EmbeddedWarehouse;
let firstLoad: DemoDataResult;
const progress: DemoDataProgress[] = [];

const POLYGON_TABLES = ['countries', 'us_states', 'us_counties'];
const CELL_TABLES = ['places_h3', 'places_quadbin'];
const GEOMETRY_TABLES = ['populated_places', ...POLYGON_TABLES];
const ALL_TABLES = ['populated_places', ...CELL_TABLES, ...POLYGON_TABLES, 'relief_raster'];

async function rowsOf(sql: string, params?: unknown[]) {
  return (await warehouse.query({ sql, params, timeoutMs: 60_000 })).rows;
}

async function countRows(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ALL_TABLES) {
    const [row] = await rowsOf(`SELECT count(*)::int4 AS n FROM "demo"."${table}"`);
    counts[table] = Number(row?.n);
  }
  return counts;
}

beforeAll(async () => {
  warehouse = await EmbeddedWarehouse.open({ dataDir });
  firstLoad = await ensureDemoData(warehouse, (step) => progress.push(step));
});

afterAll(async () => {
  await warehouse?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ensureDemoData', () => {
  it('loads populated places, countries, US states and US counties on the first start', async () => {
    const counts = await countRows();

    expect(firstLoad.loaded).toBe(true);
    expect(counts.populated_places).toBeGreaterThan(130_000);
    expect(counts.countries).toBeGreaterThan(200);
    expect(counts.us_states).toBeGreaterThanOrEqual(50);
    expect(counts.us_counties).toBeGreaterThan(3_000);
    expect(firstLoad.tables).toEqual(
      ALL_TABLES.map((table) => ({ name: `demo.${table}`, rows: counts[table] })),
    );
  });

  it('stores every geometry as SRID 4326 of the declared type, with a GiST index', async () => {
    const columns = await rowsOf(`
      SELECT f_table_name AS "table", type, srid
        FROM geometry_columns
       WHERE f_table_schema = 'demo'
       ORDER BY f_table_name`);
    const gistIndexed = await rowsOf(`
      SELECT tablename AS "table"
        FROM pg_indexes
       WHERE schemaname = 'demo' AND indexdef LIKE '%USING gist (geom)%'
       ORDER BY tablename`);
    const wrongSrids = await rowsOf(`
      SELECT count(*)::int4 AS n FROM "demo"."populated_places" WHERE ST_SRID(geom) <> 4326`);

    expect(columns).toEqual([
      { table: 'countries', type: 'MULTIPOLYGON', srid: 4326 },
      { table: 'populated_places', type: 'POINT', srid: 4326 },
      { table: 'us_counties', type: 'MULTIPOLYGON', srid: 4326 },
      { table: 'us_states', type: 'MULTIPOLYGON', srid: 4326 },
    ]);
    expect(gistIndexed.map((row) => row.table)).toEqual([...GEOMETRY_TABLES].sort());
    expect(wrongSrids).toEqual([{ n: 0 }]);
  });

  it('splits polygons at the antimeridian instead of spanning the world', async () => {
    const [parts] = await rowsOf(`
      SELECT count(*) FILTER (WHERE ST_XMax(g) - ST_XMin(g) > 180 AND name <> 'Antarctica')::int4
               AS "worldWide",
             count(*) FILTER (WHERE ST_XMin(g) < -180 OR ST_XMax(g) > 180)::int4 AS "outside"
      FROM (SELECT name, (ST_Dump(geom)).geom AS g FROM demo.countries) AS parts`);
    const [fiji] = await rowsOf(`
      SELECT ST_Intersects(geom, ST_MakeEnvelope(179, -18, 180, -16, 4326)) AS east,
             ST_Intersects(geom, ST_MakeEnvelope(-180, -18, -179, -16, 4326)) AS west
      FROM demo.countries WHERE name = 'Fiji'`);
    expect(parts).toEqual({ worldWide: 0, outside: 0 });
    expect(fiji).toEqual({ east: true, west: true });
  });

  it('sums places and population per H3 and quadbin cell, every place in one cell', async () => {
    const [totals] = await rowsOf(`
      SELECT (SELECT count(*) FROM demo.populated_places)::int4 AS places,
             (SELECT sum(coalesce(population, 0)) FROM demo.populated_places)::float8 AS population,
             (SELECT sum(place_count) FROM demo.places_h3)::int4 AS h3_places,
             (SELECT sum(population) FROM demo.places_h3)::float8 AS h3_population,
             (SELECT sum(place_count) FROM demo.places_quadbin)::int4 AS quadbin_places,
             (SELECT count(DISTINCT length(h3)) FROM demo.places_h3)::int4 AS h3_lengths,
             (SELECT count(DISTINCT (quadbin >> 52) & 31)
                FROM demo.places_quadbin)::int4 AS zooms`);
    expect(totals!.h3_places).toBe(totals!.places);
    expect(totals!.quadbin_places).toBe(totals!.places);
    expect(totals!.h3_population).toBe(totals!.population);
    expect(totals!.h3_lengths).toBe(1);
    expect(totals!.zooms).toBe(1);
  });

  it('keeps the source attributes: names, ISO and FIPS codes, populations', async () => {
    const [france] = await rowsOf(
      `SELECT iso_n3, ST_Intersects(geom, ST_SetSRID(ST_MakePoint(2.35, 48.85), 4326)) AS has_paris
         FROM "demo"."countries" WHERE name = 'France'`,
    );
    const [county] = await rowsOf(
      `SELECT name, state_fips FROM "demo"."us_counties" WHERE geoid = '06037'`,
    );
    const [place] = await rowsOf(
      `SELECT country, population > 1000000 AS is_large
         FROM "demo"."populated_places" WHERE name = 'Tokyo' AND feature_code = 'PPLC'`,
    );

    expect(france).toEqual({ iso_n3: '250', has_paris: true });
    expect(county).toEqual({ name: 'Los Angeles', state_fips: '06' });
    expect(place).toEqual({ country: 'JP', is_large: true });
  });

  it('stores the relief raster as blocks of three bands and a RaQuet metadata row', async () => {
    const [row] = await rowsOf(`
      SELECT count(*) FILTER (WHERE block <> 0)::int4 AS blocks,
             count(*) FILTER (WHERE ((block >> 52) & 31) = 5)::int4 AS native,
             (SELECT metadata FROM demo.relief_raster WHERE block = 0) AS metadata
        FROM demo.relief_raster`);
    const metadata = JSON.parse(String(row!.metadata)) as Record<string, any>;
    expect(row).toMatchObject({ blocks: 6, native: 4 });
    expect(metadata).toMatchObject({
      file_format: 'raquet',
      compression: 'gzip',
      tiling: { min_zoom: 3, max_zoom: 5, pixel_zoom: 13, num_blocks: 4 },
    });
    expect(metadata.bands.map((band: { name: string }) => band.name)).toEqual([
      'elevation',
      'landcover',
      'temperature',
    ]);
  });

  it('stores only valid polygons', async () => {
    for (const table of POLYGON_TABLES) {
      const rows = await rowsOf(
        `SELECT count(*)::int4 AS n FROM "demo"."${table}" WHERE NOT ST_IsValid(geom)`,
      );
      expect(rows, table).toEqual([{ n: 0 }]);
    }
  });

  it('reports progress per step, ending each step at its row count', () => {
    const steps = [...new Set(progress.map((event) => event.step))];
    const lastOfStep = (step: string) => progress.filter((event) => event.step === step).at(-1);

    expect(steps).toEqual([
      'populated places',
      'places per H3 cell',
      'places per quadbin cell',
      'countries',
      'US states',
      'US counties',
      'relief raster',
    ]);
    for (const step of steps) {
      const last = lastOfStep(step);
      expect(last?.done, step).toBe(last?.total);
      expect(last?.total, step).toBeGreaterThan(0);
    }
  });

  it('does nothing on the next start and keeps the same rows', async () => {
    const countsBefore = await countRows();

    const second = await ensureDemoData(warehouse, () => {
      throw new Error('no progress expected');
    });

    expect(second.loaded).toBe(false);
    expect(second.tables).toEqual(firstLoad.tables);
    expect(second.durationMs).toBeLessThan(2_000);
    expect(await countRows()).toEqual(countsBefore);
  });

  it('reloads from scratch, without duplicates, when an earlier load did not finish', async () => {
    const countsBefore = await countRows();
    await rowsOf('DROP TABLE "demo"."_graticule_meta"');

    const reload = await ensureDemoData(warehouse, () => undefined);

    expect(reload.loaded).toBe(true);
    expect(await countRows()).toEqual(countsBefore);
  });
});
