/**
 * The data half of a boundary source: which columns travel, their tilestats, and the rows of
 * the features of one tile, read through the widget machinery's prepared source (so filters,
 * bind values and missing columns behave as in widgets).
 */
import { errors } from '../http/errors.js';
import type { SourceDefinition } from '../maps/source-definition.js';
import { computeTilestats, type Tilestats } from '../maps/tilestats.js';
import { propertyValueSql, tilePropertyOf } from '../maps/tiles/tile-properties.js';
import { allOf, identifier, join, raw, render, sql, value } from '../sql-builder/sql.js';
import type { WarehouseField } from '../warehouses/driver.js';
import { PreparedSource, type Execution } from '../widgets/widget-source.js';
import { GEOID, propertiesRequest, type BoundarySource } from './boundary-source.js';
import type { PropertiesRow } from './properties-tile.js';

/** Most keys one statement binds; a tile with more features reads its rows in several. */
const KEYS_PER_STATEMENT = 5_000;

/** What the data source holds, learned once per source and reused for its tiles. */
export interface BoundaryData {
  /** Text (and boolean) columns, carried as strings. */
  strings: WarehouseField[];
  /** Numeric columns, carried as doubles indexed by feature. */
  numbers: WarehouseField[];
  rowCount: number;
  tilestats: Tilestats;
}

/** The columns a boundary source carries: those asked for, or every one tiles can carry. */
function pickColumns(source: BoundarySource, prepared: PreparedSource) {
  const fields = source.columns
    ? source.columns.map((name) => prepared.columns.field(name, 'columns'))
    : prepared.columns.fields.filter((f) => f.name !== GEOID && tilePropertyOf(f) !== null);
  const strings: WarehouseField[] = [];
  const numbers: WarehouseField[] = [];
  for (const field of fields) {
    const property = tilePropertyOf(field);
    if (!property) {
      throw errors.invalidParameter('columns', `column '${field.name}' cannot travel in tiles`);
    }
    (property.kind === 'number' ? numbers : strings).push(field);
  }
  return { strings, numbers };
}

/** Opens the data source; 404 for a missing table, 400 for a missing `geoid` or column. */
export async function openBoundaryData(
  source: BoundarySource,
  execution: Execution,
  { fresh = false } = {},
): Promise<{ prepared: PreparedSource; columns: ReturnType<typeof pickColumns> }> {
  const prepared = await PreparedSource.open(propertiesRequest(source), execution, { fresh });
  const keys = prepared.columns.fields.filter((f) => f.name === GEOID).length;
  if (keys !== 1) {
    throw errors.invalidParameter(
      prepared.request.sourceParameter,
      keys === 0
        ? `the data needs a '${GEOID}' column, the key of the boundaries`
        : `the data has ${keys} columns named '${GEOID}'; it needs one`,
    );
  }
  const columns = pickColumns(source, prepared);
  // Checks the filters' columns and operators now, so the instantiation fails, not each tile.
  await prepared.condition();
  return { prepared, columns };
}

/**
 * Runs the source's filters once without reading a row, so a filter the warehouse cannot
 * apply (an operator its column type lacks) fails the instantiation rather than every tile.
 */
export async function probeFilters(source: BoundarySource, execution: Execution): Promise<void> {
  if (!source.filters) return;
  const { prepared } = await openBoundaryData(source, execution);
  const condition = await prepared.condition();
  if (!condition) return;
  await prepared.run(sql`SELECT 1 FROM ${prepared.from} WHERE ${condition} LIMIT 0`);
}

/** Counts the data rows and computes the tilestats of the carried columns. */
export async function inspectBoundaryData(
  source: BoundarySource,
  execution: Execution,
  options: { fresh?: boolean } = {},
): Promise<BoundaryData> {
  const { prepared, columns } = await openBoundaryData(source, execution, options);
  const counted = await prepared.run(
    sql`SELECT count(*) AS ${identifier('n')} FROM ${prepared.from}`,
  );
  const rowCount = Number(counted.rows[0]?.n ?? 0);
  const from = render(sql`${prepared.from}`, prepared.dialect, prepared.request.queryParameters);
  const definition = {
    fromSql: from.text,
    queryParameters: from.params,
    spatialDataColumn: 'geom',
  } as unknown as SourceDefinition;
  const tilestats = await computeTilestats(
    execution.driver,
    definition,
    [...columns.strings, ...columns.numbers],
    rowCount,
    execution.timeoutMs,
    false,
  );
  return { ...columns, rowCount, tilestats };
}

function textOf(raw: unknown): string | null {
  if (raw === null || raw === undefined) return null;
  return typeof raw === 'string' ? raw : String(raw);
}

function numberOf(raw: unknown): number | null {
  if (raw === null || raw === undefined) return null;
  const number = typeof raw === 'number' ? raw : Number(raw);
  return Number.isFinite(number) ? number : null;
}

/** The data rows of the given keys that pass the source's filters. */
export async function readBoundaryRows(
  source: BoundarySource,
  data: BoundaryData,
  keys: readonly string[],
  execution: Execution,
  options: { fresh?: boolean } = {},
): Promise<PropertiesRow[]> {
  if (keys.length === 0) return [];
  const { prepared } = await openBoundaryData(source, execution, options);
  const key = sql`CAST(${identifier(GEOID)} AS TEXT)`;
  const select = [
    sql`${key} AS ${identifier('k')}`,
    ...data.strings.map((f, i) => sql`${raw(propertyValueSql(f))} AS ${identifier(`s${i}`)}`),
    ...data.numbers.map((f, i) => sql`${raw(propertyValueSql(f))} AS ${identifier(`n${i}`)}`),
  ];
  const filters = await prepared.condition();
  const rows: PropertiesRow[] = [];
  for (let start = 0; start < keys.length; start += KEYS_PER_STATEMENT) {
    const chunk = keys.slice(start, start + KEYS_PER_STATEMENT).map((k) => value(k));
    const where = allOf([sql`${key} IN (${join(chunk)})`, ...(filters ? [filters] : [])])!;
    const result = await prepared.run(
      sql`SELECT ${join(select)} FROM ${prepared.from} WHERE ${where}`,
    );
    for (const row of result.rows) {
      const geoid = textOf(row.k);
      if (geoid === null) continue;
      rows.push({
        geoid,
        strings: data.strings.map((_, i) => textOf(row[`s${i}`])),
        numbers: data.numbers.map((_, i) => numberOf(row[`n${i}`])),
      });
    }
  }
  return rows;
}
