/**
 * The whole data of a small source in the formats CARTO's instantiation offers beside TileJSON:
 * `geojson` (a FeatureCollection), `json` (`{rows}`) and `ndjson` (one row per line), with the
 * spatial column as a WGS84 GeoJSON geometry. Only sources up to a configured row count get
 * them; larger ones are served as tiles.
 */
import { errors } from '../http/errors.js';
import type { WarehouseDriver, WarehouseField } from '../warehouses/driver.js';
import type { SourceDefinition } from './source-definition.js';
import type { SourceInspection } from './source-inspector.js';
import { quoteIdentifier } from './table-name.js';

export const DATA_FORMATS = ['geojson', 'json', 'ndjson'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

export const DATA_CONTENT_TYPES: Record<DataFormat, string> = {
  geojson: 'application/geo+json; charset=utf-8',
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/** Alias of the GeoJSON text of the spatial column, apart from the source's own names. */
const GEOJSON_ALIAS = '__graticule_geojson';

/** The columns a data answer carries: those asked for, or every one but geometries. */
function propertiesOf(source: SourceDefinition, inspection: SourceInspection): WarehouseField[] {
  const others = inspection.fields.filter((f) => f.name !== source.spatialDataColumn);
  if (!source.columns) return others.filter((f) => f.cartoType !== 'geometry');
  return others.filter((f) => source.columns!.includes(f.name));
}

function dataSql(source: SourceDefinition, inspection: SourceInspection, fields: WarehouseField[]) {
  const column = quoteIdentifier(source.spatialDataColumn);
  const geometry = inspection.srid === 4326 ? column : `ST_Transform(${column}, 4326)`;
  const columns = fields.map((f) => quoteIdentifier(f.name));
  columns.push(`ST_AsGeoJSON(${geometry}) AS ${quoteIdentifier(GEOJSON_ALIAS)}`);
  return `SELECT ${columns.join(', ')} FROM ${inspection.fromSql}`;
}

function geometryOf(text: unknown): unknown {
  if (text === null || text === undefined) return null;
  return typeof text === 'string' ? (JSON.parse(text) as unknown) : text;
}

/** Renders the source's rows in `format`; 400 when the source is larger than `maxRows`. */
export async function readSourceData(
  driver: WarehouseDriver,
  source: SourceDefinition,
  inspection: SourceInspection,
  format: DataFormat,
  limits: { maxRows: number; timeoutMs: number; signal?: AbortSignal },
): Promise<string> {
  if (inspection.rowCount > limits.maxRows) {
    throw errors.invalidParameter(
      'format',
      `'${format}' is offered for sources of at most ${limits.maxRows} rows; ` +
        `this one has ${inspection.rowCount}: use tilejson`,
    );
  }
  const fields = propertiesOf(source, inspection);
  const result = await driver.query({
    readOnly: true,
    sql: dataSql(source, inspection, fields),
    params: inspection.params,
    timeoutMs: limits.timeoutMs,
    signal: limits.signal,
  });
  const rows = result.rows.map((row) => {
    const properties = Object.fromEntries(fields.map((f) => [f.name, row[f.name] ?? null]));
    return { properties, geometry: geometryOf(row[GEOJSON_ALIAS]) };
  });
  const column = source.spatialDataColumn;
  switch (format) {
    case 'geojson':
      return JSON.stringify({
        type: 'FeatureCollection',
        features: rows.map((r) => ({
          type: 'Feature',
          geometry: r.geometry,
          properties: r.properties,
        })),
      });
    case 'json':
      return JSON.stringify({ rows: rows.map((r) => ({ ...r.properties, [column]: r.geometry })) });
    case 'ndjson':
      return rows
        .map((r) => `${JSON.stringify({ ...r.properties, [column]: r.geometry })}\n`)
        .join('');
  }
}
