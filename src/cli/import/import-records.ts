import path from 'node:path';
import wkx from 'wkx';
import { CliError } from '../cli-context.js';
import { CsvSyntaxError, readCsvRecords } from './csv-reader.js';
import { GeoJsonSyntaxError, readGeoJsonFeatures } from './geojson-reader.js';
import { readLines, readTextChunks, type BytesRead } from './text-input.js';

export const IMPORT_FORMATS = ['geojson', 'csv', 'ndjson'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

const GEOMETRY_TYPES = new Set([
  'Point',
  'MultiPoint',
  'LineString',
  'MultiLineString',
  'Polygon',
  'MultiPolygon',
  'GeometryCollection',
]);
const SRID = 4326;
/** What starts each record of a GeoJSON text sequence (RFC 8142). */
const RECORD_SEPARATOR = '\u001e';

/** The geometry of a record, in the form the INSERT binds it. */
export type RecordGeometry =
  | { kind: 'geojson'; value: object }
  | { kind: 'wkt'; value: string }
  | { kind: 'point'; lon: number; lat: number }
  | null;

/** One row to import: where it is in the file, its attributes and its geometry. */
export interface ImportRecord {
  /** `line 12` or `feature 3 (line 40)`, for messages. */
  where: string;
  properties: Map<string, unknown>;
  geometry: RecordGeometry;
  /** CSV values are text to infer types from; JSON values have types of their own. */
  isText: boolean;
}

/** Where the geometry of CSV and plain NDJSON rows comes from. */
export interface GeometryColumns {
  lon?: string;
  lat?: string;
  wkt?: string;
}

/** A file that cannot be imported: one line naming the file and the line or feature. */
export class ImportFileError extends CliError {
  constructor(file: string, where: string, problem: string) {
    super(`${path.basename(file)}: ${where ? `${where}: ` : ''}${problem}`);
  }
}

/** The format named by `--format`, else by the file's extension. */
export function importFormatOf(file: string, requested?: string): ImportFormat {
  if (requested !== undefined) return requested as ImportFormat;
  const extension = path.extname(file).toLowerCase();
  if (extension === '.geojson' || extension === '.json') return 'geojson';
  if (extension === '.csv' || extension === '.tsv' || extension === '.txt') return 'csv';
  if (['.ndjson', '.jsonl', '.geojsonl', '.geojsons', '.geojsonseq'].includes(extension)) {
    return 'ndjson';
  }
  throw new CliError(`cannot tell the format of ${file} from its name: give --format`);
}

function checkGeoJsonGeometry(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) return 'the geometry is not an object';
  const geometry = value as { type?: unknown; coordinates?: unknown; geometries?: unknown };
  if (typeof geometry.type !== 'string' || !GEOMETRY_TYPES.has(geometry.type)) {
    return `'${String(geometry.type)}' is not a GeoJSON geometry type`;
  }
  if (geometry.type === 'GeometryCollection') {
    return Array.isArray(geometry.geometries) ? undefined : 'a GeometryCollection needs geometries';
  }
  return Array.isArray(geometry.coordinates) ? undefined : 'the geometry has no coordinates';
}

/** A GeoJSON Feature as a record; its `id`, if any, is a property unless one has that name. */
function featureRecord(value: unknown, where: string, file: string): ImportRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ImportFileError(file, where, 'is not a GeoJSON Feature object');
  }
  const feature = value as {
    type?: unknown;
    properties?: unknown;
    geometry?: unknown;
    id?: unknown;
  };
  if (feature.type !== 'Feature') {
    throw new ImportFileError(file, where, `has type '${String(feature.type)}', not Feature`);
  }
  const problem = checkGeoJsonGeometry(feature.geometry);
  if (problem) throw new ImportFileError(file, where, problem);
  const raw = feature.properties ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ImportFileError(file, where, 'its properties are not an object');
  }
  const properties = new Map(Object.entries(raw));
  if (feature.id !== undefined && !properties.has('id')) {
    properties.set('id', feature.id);
  }
  const geometry = feature.geometry ? { kind: 'geojson' as const, value: feature.geometry } : null;
  return { where, properties, geometry, isText: false };
}

function coordinate(text: unknown, name: string, limit: number, where: string, file: string) {
  if (text === null || text === undefined || text === '') return null;
  const value = typeof text === 'number' ? text : Number(String(text).trim());
  if (!Number.isFinite(value) || (typeof text === 'string' && text.trim() === '')) {
    throw new ImportFileError(file, where, `${name} '${String(text)}' is not a number`);
  }
  if (Math.abs(value) > limit) {
    throw new ImportFileError(
      file,
      where,
      `${name} ${value} is outside ±${limit}: coordinates must be WGS84 degrees`,
    );
  }
  return value;
}

function wktGeometry(text: unknown, where: string, file: string): RecordGeometry {
  if (text === null || text === undefined || String(text).trim() === '') return null;
  let parsed: { srid?: number };
  try {
    parsed = wkx.Geometry.parse(String(text)) as { srid?: number };
  } catch (error) {
    throw new ImportFileError(file, where, `bad WKT: ${(error as Error).message}`);
  }
  if (parsed.srid !== undefined && parsed.srid !== SRID) {
    throw new ImportFileError(file, where, `SRID ${parsed.srid}: only ${SRID} is imported`);
  }
  // PostGIS reads plain WKT; an `SRID=4326;` prefix is dropped.
  return { kind: 'wkt', value: String(text).replace(/^\s*SRID=\d+;/i, '') };
}

/**
 * Takes the geometry of a CSV or plain NDJSON row from its columns: the longitude and
 * latitude columns stay as columns, the WKT column becomes the geometry only.
 */
function rowRecord(
  properties: Map<string, unknown>,
  columns: GeometryColumns,
  where: string,
  file: string,
  isText: boolean,
): ImportRecord {
  let geometry: RecordGeometry = null;
  if (columns.wkt !== undefined) {
    geometry = wktGeometry(properties.get(columns.wkt), where, file);
    properties.delete(columns.wkt);
  } else if (columns.lon !== undefined && columns.lat !== undefined) {
    const lon = coordinate(properties.get(columns.lon), 'longitude', 180, where, file);
    const lat = coordinate(properties.get(columns.lat), 'latitude', 90, where, file);
    if ((lon === null) !== (lat === null)) {
      throw new ImportFileError(file, where, 'has a longitude or a latitude, not both');
    }
    geometry = lon === null || lat === null ? null : { kind: 'point', lon, lat };
  }
  return { where, properties, geometry, isText };
}

/** Header names made unique (`name`, `name_2`) and never empty, as the CSV's keys. */
function uniqueHeader(fields: string[]): string[] {
  const seen = new Set<string>();
  return fields.map((field, i) => {
    const base = field.trim() === '' ? `column_${i + 1}` : field.trim();
    let name = base;
    for (let n = 2; seen.has(name); n += 1) name = `${base}_${n}`;
    seen.add(name);
    return name;
  });
}

/** `--lon`/`--lat`, `--wkt`, else the usual names of a CSV's coordinate columns. */
function geometryColumnsOf(header: string[], requested: GeometryColumns, file: string) {
  for (const column of [requested.lon, requested.lat, requested.wkt]) {
    if (column !== undefined && !header.includes(column)) {
      throw new ImportFileError(file, 'line 1', `no column '${column}' in the header`);
    }
  }
  if (requested.wkt !== undefined || requested.lon !== undefined) return requested;
  const find = (names: string[]) => header.find((h) => names.includes(h.toLowerCase()));
  const lon = find(['longitude', 'lon', 'lng', 'long', 'x']);
  const lat = find(['latitude', 'lat', 'y']);
  if (lon !== undefined && lat !== undefined) return { lon, lat };
  const wkt = find(['wkt', 'the_geom', 'geom', 'geometry']);
  return wkt === undefined ? {} : { wkt };
}

async function* csvRecords(
  file: string,
  columns: GeometryColumns,
  onBytes?: BytesRead,
): AsyncGenerator<ImportRecord> {
  const delimiter = path.extname(file).toLowerCase() === '.tsv' ? '\t' : ',';
  let header: string[] | undefined;
  let geometryColumns: GeometryColumns = {};
  try {
    for await (const record of readCsvRecords(readTextChunks(file, onBytes), delimiter)) {
      if (header === undefined) {
        header = uniqueHeader(record.fields);
        geometryColumns = geometryColumnsOf(header, columns, file);
        continue;
      }
      const where = `line ${record.line}`;
      if (record.fields.length !== header.length) {
        throw new ImportFileError(
          file,
          where,
          `has ${record.fields.length} fields, the header ${header.length}`,
        );
      }
      const properties = new Map(header.map((name, i) => [name, record.fields[i]]));
      yield rowRecord(properties, geometryColumns, where, file, true);
    }
  } catch (error) {
    if (error instanceof CsvSyntaxError) {
      throw new ImportFileError(file, `line ${error.line}`, error.message);
    }
    throw error;
  }
  if (header === undefined) throw new ImportFileError(file, '', 'the file is empty');
}

async function* geoJsonRecords(file: string, onBytes?: BytesRead): AsyncGenerator<ImportRecord> {
  try {
    for await (const item of readGeoJsonFeatures(readTextChunks(file, onBytes))) {
      yield featureRecord(item.feature, `feature ${item.index} (line ${item.line})`, file);
    }
  } catch (error) {
    if (error instanceof GeoJsonSyntaxError) {
      const where =
        error.featureIndex === undefined
          ? `line ${error.line}`
          : `feature ${error.featureIndex} (line ${error.line})`;
      throw new ImportFileError(file, where, error.message);
    }
    throw error;
  }
}

/** NDJSON lines: GeoJSON Features (GeoJSON text sequences), or plain objects. */
async function* ndjsonRecords(
  file: string,
  columns: GeometryColumns,
  onBytes?: BytesRead,
): AsyncGenerator<ImportRecord> {
  for await (const { line, text } of readLines(file, onBytes)) {
    // RFC 8142 text sequences start each record with a record separator.
    const json = (text.startsWith(RECORD_SEPARATOR) ? text.slice(1) : text).trim();
    if (json === '') continue;
    const where = `line ${line}`;
    let value: unknown;
    try {
      value = JSON.parse(json) as unknown;
    } catch (error) {
      throw new ImportFileError(file, where, `not JSON: ${(error as Error).message}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ImportFileError(file, where, 'is not a JSON object');
    }
    if ((value as { type?: unknown }).type === 'Feature') {
      yield featureRecord(value, where, file);
      continue;
    }
    const properties = new Map(Object.entries(value));
    for (const column of [columns.lon, columns.lat, columns.wkt]) {
      if (column !== undefined && !properties.has(column)) {
        throw new ImportFileError(file, where, `has no '${column}'`);
      }
    }
    yield rowRecord(properties, columns, where, file, false);
  }
}

/** Reads the file's records, with flat memory; `onBytes` follows the bytes read. */
export function readImportRecords(
  file: string,
  format: ImportFormat,
  columns: GeometryColumns,
  onBytes?: BytesRead,
): AsyncGenerator<ImportRecord> {
  if (format === 'geojson') {
    if (columns.lon !== undefined || columns.wkt !== undefined) {
      throw new CliError('--lon, --lat and --wkt are for CSV and NDJSON files');
    }
    return geoJsonRecords(file, onBytes);
  }
  if (format === 'csv') return csvRecords(file, columns, onBytes);
  return ndjsonRecords(file, columns, onBytes);
}
