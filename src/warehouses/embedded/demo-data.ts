/**
 * Loads the demo data set into schema `demo` of a warehouse, once: a marker table records the
 * loaded version, so later starts find it and do nothing.
 */

import type { WarehouseDriver } from '../driver.js';
import {
  CREATE_COUNTRIES,
  CREATE_DEMO_MARKER,
  CREATE_DEMO_SCHEMA,
  CREATE_PLACES_H3,
  CREATE_PLACES_QUADBIN,
  CREATE_POPULATED_PLACES,
  CREATE_US_COUNTIES,
  CREATE_US_STATES,
  DEMO_DATA_VERSION,
  DROP_DEMO_TABLES,
  HAS_DEMO_MARKER,
  INSERT_COUNTRIES,
  INSERT_PLACES_H3,
  INSERT_PLACES_QUADBIN,
  INSERT_POPULATED_PLACES,
  INSERT_US_COUNTIES,
  INSERT_US_STATES,
  READ_DEMO_MARKER,
  WRITE_DEMO_MARKER,
  countRowsStatement,
  finishTableStatements,
} from './demo-data.sql.js';
import {
  placesByCell,
  readPopulatedPlaces,
  type CellSummary,
  readUsStatesAndCounties,
  readWorldCountries,
  type PolygonFeature,
  type PopulatedPlace,
} from './demo-sources.js';
import { loadDemoRaster } from '../../rasters/demo-raster.js';

export interface DemoDataProgress {
  /** What is loading, for people: "populated places", "countries", ... */
  step: string;
  done: number;
  total: number;
}

export interface DemoTable {
  name: string;
  rows: number;
}

export interface DemoDataResult {
  /** False when the data set was already there and nothing was done. */
  loaded: boolean;
  /** Qualified table names (`demo.countries`) and their row counts. */
  tables: DemoTable[];
  durationMs: number;
}

// Loading runs once, at first start; generous limits keep a slow machine from failing it.
const LOAD_TIMEOUT_MS = 300_000;
const PLACES_PER_STATEMENT = 10_000;
const POLYGONS_PER_STATEMENT = 250;

type Run = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;
type Report = (done: number, total: number) => void;

/** How one demo table is created and filled from items of type T. */
interface TableLoad<T> {
  table: string;
  key: string;
  createSql: string;
  insertSql: string;
  rowsPerStatement: number;
  toColumns: (batch: T[]) => unknown[];
  /** False for tables without a geometry column (spatial-index cells). */
  spatial?: boolean;
}

/**
 * Creates, fills, indexes and counts one table. The count must match the items: a statement
 * cut short inside the warehouse must never leave a silently partial table behind.
 */
async function loadTable<T>(
  run: Run,
  load: TableLoad<T>,
  items: T[],
  report: Report,
): Promise<DemoTable> {
  await run(load.createSql);
  report(0, items.length);
  for (let start = 0; start < items.length; start += load.rowsPerStatement) {
    const batch = items.slice(start, start + load.rowsPerStatement);
    await run(load.insertSql, load.toColumns(batch));
    report(start + batch.length, items.length);
  }
  for (const sql of finishTableStatements(load.table, load.key, load.spatial)) await run(sql);

  const [count] = await run(countRowsStatement(load.table));
  const rows = Number(count?.rows);
  if (rows !== items.length) {
    throw new Error(`demo.${load.table} holds ${rows} rows instead of ${items.length}`);
  }
  return { name: `demo.${load.table}`, rows };
}

function placeColumns(places: PopulatedPlace[]): unknown[] {
  const orNull = (text: string) => (text === '' ? null : text);
  return [
    places.map((place) => place.cityId),
    places.map((place) => place.name),
    places.map((place) => orNull(place.country)),
    places.map((place) => place.population),
    places.map((place) => orNull(place.featureCode)),
    places.map((place) => orNull(place.adminCode)),
    places.map((place) => place.loc.coordinates[0]),
    places.map((place) => place.loc.coordinates[1]),
  ];
}

function polygonColumns(features: PolygonFeature[]): unknown[] {
  return [
    features.map((item) => item.id ?? null),
    features.map((item) => item.name),
    features.map((item) => item.geojson),
  ];
}

const POPULATED_PLACES: TableLoad<PopulatedPlace> = {
  table: 'populated_places',
  key: 'id',
  createSql: CREATE_POPULATED_PLACES,
  insertSql: INSERT_POPULATED_PLACES,
  rowsPerStatement: PLACES_PER_STATEMENT,
  toColumns: placeColumns,
};

function cellColumns(cells: CellSummary[]): unknown[] {
  return [
    cells.map((cell) => cell.cell),
    cells.map((cell) => cell.placeCount),
    cells.map((cell) => cell.population),
  ];
}

const PLACES_H3: TableLoad<CellSummary> = {
  table: 'places_h3',
  key: 'h3',
  createSql: CREATE_PLACES_H3,
  insertSql: INSERT_PLACES_H3,
  rowsPerStatement: PLACES_PER_STATEMENT,
  toColumns: cellColumns,
  spatial: false,
};

const PLACES_QUADBIN: TableLoad<CellSummary> = {
  table: 'places_quadbin',
  key: 'quadbin',
  createSql: CREATE_PLACES_QUADBIN,
  insertSql: INSERT_PLACES_QUADBIN,
  rowsPerStatement: PLACES_PER_STATEMENT,
  toColumns: cellColumns,
  spatial: false,
};

// Some Natural Earth units (Kosovo, Somaliland, ...) have no ISO code, so the key is a stable
// sequence number and the code is a nullable column.
const COUNTRIES: TableLoad<PolygonFeature & { index: number }> = {
  table: 'countries',
  key: 'id',
  createSql: CREATE_COUNTRIES,
  insertSql: INSERT_COUNTRIES,
  rowsPerStatement: POLYGONS_PER_STATEMENT,
  toColumns: (batch) => [batch.map((item) => item.index + 1), ...polygonColumns(batch)],
};

const US_STATES: TableLoad<PolygonFeature> = {
  table: 'us_states',
  key: 'geoid',
  createSql: CREATE_US_STATES,
  insertSql: INSERT_US_STATES,
  rowsPerStatement: POLYGONS_PER_STATEMENT,
  toColumns: polygonColumns,
};

const US_COUNTIES: TableLoad<PolygonFeature> = {
  table: 'us_counties',
  key: 'geoid',
  createSql: CREATE_US_COUNTIES,
  insertSql: INSERT_US_COUNTIES,
  rowsPerStatement: POLYGONS_PER_STATEMENT,
  toColumns: polygonColumns,
};

/** The synthetic raster (see src/rasters/demo-raster.ts): its blocks plus the metadata row. */
async function loadRaster(driver: WarehouseDriver, report: Report): Promise<DemoTable> {
  report(0, 1);
  const blocks = await loadDemoRaster(driver, LOAD_TIMEOUT_MS);
  report(1, 1);
  return { name: 'demo.relief_raster', rows: blocks + 1 };
}

/** Reads each source just before its table loads, so only one is held in memory at a time. */
async function loadAllTables(
  driver: WarehouseDriver,
  run: Run,
  reporter: (step: string) => Report,
): Promise<DemoTable[]> {
  const placeList = readPopulatedPlaces();
  const places = await loadTable(run, POPULATED_PLACES, placeList, reporter('populated places'));
  const cells = placesByCell(placeList);
  const h3 = await loadTable(run, PLACES_H3, cells.h3, reporter('places per H3 cell'));
  const quadbin = await loadTable(
    run,
    PLACES_QUADBIN,
    cells.quadbin,
    reporter('places per quadbin cell'),
  );
  const countryFeatures = (await readWorldCountries()).map((item, index) => ({ ...item, index }));
  const countries = await loadTable(run, COUNTRIES, countryFeatures, reporter('countries'));
  const us = await readUsStatesAndCounties();
  const states = await loadTable(run, US_STATES, us.states, reporter('US states'));
  const counties = await loadTable(run, US_COUNTIES, us.counties, reporter('US counties'));
  const raster = await loadRaster(driver, reporter('relief raster'));
  return [places, h3, quadbin, countries, states, counties, raster];
}

function isDemoTableList(value: unknown): value is DemoTable[] {
  return (
    Array.isArray(value) &&
    value.every(
      (item: unknown) =>
        typeof item === 'object' &&
        item !== null &&
        typeof (item as DemoTable).name === 'string' &&
        typeof (item as DemoTable).rows === 'number',
    )
  );
}

/**
 * Loads the demo tables (`demo.populated_places`, `demo.places_h3`, `demo.places_quadbin`,
 * `demo.countries`, `demo.us_states`, `demo.us_counties`, the raster `demo.relief_raster`)
 * unless this version of them is already loaded. An interrupted or older load is dropped and
 * redone, since the marker is written last.
 */
export async function ensureDemoData(
  driver: WarehouseDriver,
  onProgress: (progress: DemoDataProgress) => void,
): Promise<DemoDataResult> {
  const startedAt = performance.now();
  const run: Run = async (sql, params) =>
    (await driver.query({ sql, params, timeoutMs: LOAD_TIMEOUT_MS })).rows;

  const [marker] = await run(HAS_DEMO_MARKER);
  if (marker?.present === true) {
    const [loaded] = await run(READ_DEMO_MARKER);
    if (loaded?.version === DEMO_DATA_VERSION && isDemoTableList(loaded.tables)) {
      return { loaded: false, tables: loaded.tables, durationMs: performance.now() - startedAt };
    }
  }

  await run(CREATE_DEMO_SCHEMA);
  await run(DROP_DEMO_TABLES);
  const reporter =
    (step: string): Report =>
    (done, total) =>
      onProgress({ step, done, total });
  const tables = await loadAllTables(driver, run, reporter);
  await run(CREATE_DEMO_MARKER);
  await run(WRITE_DEMO_MARKER, [DEMO_DATA_VERSION, JSON.stringify(tables)]);
  return { loaded: true, tables, durationMs: performance.now() - startedAt };
}
