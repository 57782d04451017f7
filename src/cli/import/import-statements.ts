import { quoteIdentifier, quoteTableName, type TableName } from '../../maps/table-name.js';
import { bindValue, GEOMETRY_COLUMN, SQL_TYPES, type ImportColumn } from './column-types.js';
import type { ImportRecord, RecordGeometry } from './import-records.js';

/** Bind values per statement: PostgreSQL takes at most 65535. */
const MAX_PARAMETERS = 30_000;
const MAX_BATCH_ROWS = 1_000;
/** Bytes of bind values per statement, well under the server's 4 MiB default body limit. */
export const MAX_BATCH_BYTES = 1024 * 1024;

const GEOMETRY_EXPRESSIONS = {
  // GeoJSON is WGS84 (RFC 7946); Z and M are dropped to fit the 2D column.
  geojson: (p: string) => `ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(${p}::text), 4326))`,
  wkt: (p: string) => `ST_Force2D(ST_GeomFromText(${p}::text, 4326))`,
  point: (lon: string, lat: string) =>
    `ST_SetSRID(ST_MakePoint(${lon}::double precision, ${lat}::double precision), 4326)`,
};

export const TABLE_EXISTS_SQL = 'SELECT to_regclass($1) IS NOT NULL AS "exists"';

export function createTableSql(table: TableName, columns: ImportColumn[]): string {
  const definitions = [
    ...columns.map((column) => `${quoteIdentifier(column.name)} ${SQL_TYPES[column.kind]}`),
    `${quoteIdentifier(GEOMETRY_COLUMN)} geometry(Geometry, 4326)`,
  ];
  return `CREATE TABLE ${quoteTableName(table)} (\n  ${definitions.join(',\n  ')}\n)`;
}

export function dropTableSql(table: TableName): string {
  return `DROP TABLE IF EXISTS ${quoteTableName(table)}`;
}

export function renameTableSql(from: TableName, to: TableName): string {
  return `ALTER TABLE ${quoteTableName(from)} RENAME TO ${quoteIdentifier(to.table)}`;
}

export function spatialIndexSql(table: TableName): string {
  const column = quoteIdentifier(GEOMETRY_COLUMN);
  return `CREATE INDEX ON ${quoteTableName(table)} USING GIST (${column})`;
}

export function analyzeSql(table: TableName): string {
  return `ANALYZE ${quoteTableName(table)}`;
}

/** The bind values of a record's geometry: GeoJSON and WKT take one, a point two. */
function geometryValues(geometry: RecordGeometry): unknown[] {
  if (geometry === null) return [null];
  if (geometry.kind === 'point') return [geometry.lon, geometry.lat];
  return [geometry.value];
}

/**
 * Collects records into multi-row INSERT statements with bind values (never values in the SQL
 * text), each within the limits of bind values, rows and bytes.
 */
export class InsertBatcher {
  private rows: unknown[][] = [];
  private bytes = 0;
  private firstWhere = '';
  private lastWhere = '';
  private readonly geometryKind: 'geojson' | 'wkt' | 'point';
  private readonly maxRows: number;

  constructor(
    private readonly table: TableName,
    private readonly columns: ImportColumn[],
    geometryKind: 'geojson' | 'wkt' | 'point' | null,
  ) {
    this.geometryKind = geometryKind ?? 'geojson';
    const perRow = columns.length + (this.geometryKind === 'point' ? 2 : 1);
    this.maxRows = Math.max(1, Math.min(MAX_BATCH_ROWS, Math.floor(MAX_PARAMETERS / perRow)));
  }

  get size(): number {
    return this.rows.length;
  }

  /** `line 2 to line 501`: where the batch's rows are in the file, for messages. */
  get span(): string {
    return this.firstWhere === this.lastWhere
      ? this.firstWhere
      : `${this.firstWhere} to ${this.lastWhere}`;
  }

  /** Adds a record; answers true when the batch is full and should be sent. */
  add(record: ImportRecord): boolean {
    const values = this.columns.map((column) =>
      bindValue(column.kind, record.properties.get(column.key), record.isText),
    );
    const geometry = this.geometryValuesOf(record);
    const row = [...values, ...geometry];
    if (this.rows.length === 0) this.firstWhere = record.where;
    this.lastWhere = record.where;
    this.rows.push(row);
    this.bytes += JSON.stringify(row).length;
    return this.rows.length >= this.maxRows || this.bytes >= MAX_BATCH_BYTES;
  }

  /** A record's geometry in this batch's form: null in the same shape, points as GeoJSON. */
  private geometryValuesOf(record: ImportRecord): unknown[] {
    const geometry = record.geometry;
    if (geometry === null) return this.geometryKind === 'point' ? [null, null] : [null];
    if (geometry.kind === this.geometryKind) return geometryValues(geometry);
    if (geometry.kind === 'point' && this.geometryKind === 'geojson') {
      return [{ type: 'Point', coordinates: [geometry.lon, geometry.lat] }];
    }
    throw new Error(`${record.where}: mixes ${geometry.kind} and ${this.geometryKind} geometry`);
  }

  /** The statement and bind values of the rows so far, and starts a new batch. */
  take(): { sql: string; params: unknown[] } {
    const columns = [...this.columns.map((c) => c.name), GEOMETRY_COLUMN].map(quoteIdentifier);
    let n = 0;
    const next = () => `$${(n += 1)}`;
    const tuples = this.rows.map(() => {
      const values = this.columns.map((column) => `${next()}::${SQL_TYPES[column.kind]}`);
      const geometry =
        this.geometryKind === 'point'
          ? GEOMETRY_EXPRESSIONS.point(next(), next())
          : GEOMETRY_EXPRESSIONS[this.geometryKind](next());
      return `(${[...values, geometry].join(', ')})`;
    });
    const sql =
      `INSERT INTO ${quoteTableName(this.table)} (${columns.join(', ')})\n` +
      `VALUES ${tuples.join(',\n  ')}`;
    const params = this.rows.flat();
    this.rows = [];
    this.bytes = 0;
    return { sql, params };
  }
}
