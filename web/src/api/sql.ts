/**
 * The SQL API, and the catalog queries the console browses connections with. There is no
 * browse API: `information_schema` answers on the embedded warehouse, PostgreSQL and Redshift.
 */
import { apiRequest } from './client';
import type { SqlAnswer } from './types';

/** Runs `q` on `connection` (`POST /v3/sql/{connection}/query`). */
export function runSql(
  connection: string,
  q: string,
  options: { queryParameters?: unknown[]; signal?: AbortSignal } = {},
): Promise<SqlAnswer> {
  const body: Record<string, unknown> = { q };
  if (options.queryParameters) body.queryParameters = options.queryParameters;
  return apiRequest<SqlAnswer>(`/v3/sql/${encodeURIComponent(connection)}/query`, {
    method: 'POST',
    body,
    ...(options.signal && { signal: options.signal }),
  });
}

const SCHEMAS_SQL = `
  SELECT schema_name
  FROM information_schema.schemata
  WHERE schema_name NOT IN ('information_schema', 'pg_catalog', 'pg_toast')
    AND schema_name NOT LIKE 'pg\\_temp\\_%'
    AND schema_name NOT LIKE 'pg\\_toast\\_temp\\_%'
  ORDER BY schema_name`;

const TABLES_SQL = `
  SELECT table_name, table_type
  FROM information_schema.tables
  WHERE table_schema = $1
  ORDER BY table_name`;

const SPATIAL_COLUMNS_SQL = `
  SELECT table_name, column_name
  FROM information_schema.columns
  WHERE table_schema = $1 AND udt_name IN ('geometry', 'geography')
  ORDER BY table_name, ordinal_position`;

const ALL_TABLES_SQL = `
  SELECT table_schema, table_name
  FROM information_schema.tables
  WHERE table_schema NOT IN ('information_schema', 'pg_catalog', 'pg_toast')
    AND table_schema NOT LIKE 'pg\\_%'
  ORDER BY table_schema, table_name
  LIMIT 2000`;

const COLUMNS_SQL = `
  SELECT column_name, data_type, udt_name
  FROM information_schema.columns
  WHERE table_schema = $1 AND table_name = $2
  ORDER BY ordinal_position`;

export interface TableEntry {
  name: string;
  isView: boolean;
  /** The first geometry or geography column, if the table has one. */
  spatialColumn: string | null;
}

export interface ColumnEntry {
  name: string;
  dataType: string;
}

const text = (value: unknown) => (value === null || value === undefined ? '' : String(value));

export async function listSchemas(connection: string, signal?: AbortSignal): Promise<string[]> {
  const answer = await runSql(connection, SCHEMAS_SQL, { ...(signal && { signal }) });
  return answer.rows.map((row) => text(row.schema_name));
}

export async function listTables(
  connection: string,
  schema: string,
  signal?: AbortSignal,
): Promise<TableEntry[]> {
  const options = { queryParameters: [schema], ...(signal && { signal }) };
  const [tables, spatial] = await Promise.all([
    runSql(connection, TABLES_SQL, options),
    runSql(connection, SPATIAL_COLUMNS_SQL, options),
  ]);
  const spatialColumns = new Map<string, string>();
  for (const row of spatial.rows) {
    const table = text(row.table_name);
    if (!spatialColumns.has(table)) spatialColumns.set(table, text(row.column_name));
  }
  return tables.rows.map((row) => ({
    name: text(row.table_name),
    isView: text(row.table_type).toUpperCase() === 'VIEW',
    spatialColumn: spatialColumns.get(text(row.table_name)) ?? null,
  }));
}

/** Every table of the connection as `schema.table` (the first 2,000). */
export async function listQualifiedTables(
  connection: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const answer = await runSql(connection, ALL_TABLES_SQL, { ...(signal && { signal }) });
  return answer.rows.map((row) => qualifiedName(text(row.table_schema), text(row.table_name)));
}

export async function listColumns(
  connection: string,
  schema: string,
  table: string,
  signal?: AbortSignal,
): Promise<ColumnEntry[]> {
  const answer = await runSql(connection, COLUMNS_SQL, {
    queryParameters: [schema, table],
    ...(signal && { signal }),
  });
  return answer.rows.map((row) => ({
    name: text(row.column_name),
    dataType: text(row.data_type) === 'USER-DEFINED' ? text(row.udt_name) : text(row.data_type),
  }));
}

/**
 * `schema.table` as the API reads a table name back: plain lower-case names as they are,
 * others quoted (upper case, spaces, dots), so a grant or a map source names that very table.
 */
export function qualifiedName(schema: string, table: string): string {
  const part = (name: string) => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : quoteIdentifier(name));
  return `${part(schema)}.${part(table)}`;
}

/** A SQL identifier, quoted: names are used exactly as the catalog spells them. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The first rows of a table. */
export function previewRows(
  connection: string,
  schema: string,
  table: string,
  limit: number,
  signal?: AbortSignal,
): Promise<SqlAnswer> {
  const q = `SELECT * FROM ${quoteIdentifier(schema)}.${quoteIdentifier(table)} LIMIT ${limit}`;
  return runSql(connection, q, { ...(signal && { signal }) });
}
