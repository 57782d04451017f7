import { Command, InvalidArgumentError } from 'commander';
import { ApiError } from '../http/errors.js';
import { parseTableName, quoteIdentifier, quoteTableName } from '../maps/table-name.js';
import { addApiOptions, ApiClient, RemoteError, type ApiOptions } from './api-client.js';
import { CliError, printJson, printTable } from './cli-context.js';
import { DEFAULT_CONNECTION, printRowsTable } from './sql-command.js';

/**
 * A connection's tables and views, with their first spatial column. There is no browse API:
 * the catalog is read through the SQL API from `information_schema`, which the embedded
 * warehouse, PostgreSQL and Redshift all have.
 */
const TABLES_SQL = `
  SELECT t.table_schema AS schema,
         t.table_name AS name,
         CASE WHEN t.table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind,
         (SELECT c.column_name
            FROM information_schema.columns AS c
           WHERE c.table_schema = t.table_schema
             AND c.table_name = t.table_name
             AND c.udt_name IN ('geometry', 'geography')
           ORDER BY c.ordinal_position
           LIMIT 1) AS spatial_column
    FROM information_schema.tables AS t
   WHERE t.table_schema NOT IN ('information_schema', 'pg_catalog')
     AND t.table_schema NOT LIKE 'pg\\_%'
     AND ($1::text IS NULL OR t.table_schema = $1::text)
   ORDER BY t.table_schema, t.table_name`;

/** The columns of one table; an unqualified name is looked up in the current schema. */
const COLUMNS_SQL = `
  SELECT column_name AS name, data_type AS type, udt_name
    FROM information_schema.columns
   WHERE table_schema = COALESCE($1::text, current_schema())
     AND table_name = $2::text
   ORDER BY ordinal_position`;

interface TablesOptions extends ApiOptions {
  connection: string;
  schema?: string;
  json?: boolean;
}

interface ShowOptions extends ApiOptions {
  connection: string;
  rows: number;
  json?: boolean;
}

interface ColumnRow {
  name: string;
  type: string;
  udt_name: string;
}

function rowCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 0 || count > 10_000) {
    throw new InvalidArgumentError('expected a whole number from 0 to 10000');
  }
  return count;
}

async function runSql<T>(api: ApiClient, connection: string, q: string, params: unknown[]) {
  const answer = await api.json<{ rows: T[]; schema: { name: string; type: string }[] }>(
    'POST',
    `/v3/sql/${encodeURIComponent(connection)}/query`,
    { json: { q, queryParameters: params } },
  );
  return answer;
}

/** The select list of a table's first rows: spatial columns as WKT, to be readable. */
function selectList(columns: ColumnRow[]): string {
  return columns
    .map((column) => {
      const name = quoteIdentifier(column.name);
      if (column.udt_name === 'geometry') return `ST_AsText(${name}) AS ${name}`;
      if (column.udt_name === 'geography') return `ST_AsText(${name}::geometry) AS ${name}`;
      return name;
    })
    .join(', ');
}

/** `graticule tables`: what the web console's data explorer shows, through the SQL API. */
export function tablesCommand(): Command {
  const tables = new Command('tables')
    .description("browse a connection's tables, their columns and first rows (via the SQL API)")
    .addHelpText(
      'after',
      `
Examples:
  $ graticule tables list --schema demo
  $ graticule tables show demo.countries --rows 5`,
    );

  addApiOptions(
    tables
      .command('list')
      .description('list the tables and views of a connection, with their spatial column')
      .option('-c, --connection <name>', 'connection to browse', DEFAULT_CONNECTION)
      .option('--schema <name>', 'only this schema')
      .option('--json', 'print JSON'),
  ).action(async (options: TablesOptions) => {
    const api = await ApiClient.fromOptions(options);
    const { rows } = await runSql<Record<string, unknown>>(api, options.connection, TABLES_SQL, [
      options.schema ?? null,
    ]);
    if (options.json) return printJson(rows);
    printTable(rows, ['schema', 'name', 'kind', 'spatial_column']);
  });

  addApiOptions(
    tables
      .command('show <table>')
      .description("print a table's columns and first rows (spatial columns as WKT)")
      .option('-c, --connection <name>', 'connection holding the table', DEFAULT_CONNECTION)
      .option('--rows <n>', 'how many rows to show', rowCount, 10)
      .option('--json', 'print JSON: {columns, rows}'),
  ).action(async (table: string, options: ShowOptions) => {
    let name;
    try {
      name = parseTableName(table);
    } catch (error) {
      if (error instanceof ApiError) throw new CliError(error.message);
      throw error;
    }
    const api = await ApiClient.fromOptions(options);
    const { rows: columns } = await runSql<ColumnRow>(api, options.connection, COLUMNS_SQL, [
      name.schema,
      name.table,
    ]);
    if (columns.length === 0) {
      throw new RemoteError(`no table ${table} on connection ${options.connection}`, 404);
    }
    const first = await runSql<Record<string, unknown>>(
      api,
      options.connection,
      `SELECT ${selectList(columns)} FROM ${quoteTableName(name)} LIMIT $1::integer`,
      [options.rows],
    );
    // PostGIS types are `USER-DEFINED` to information_schema; their own name says more.
    const described = columns.map((c) => ({
      name: c.name,
      type: c.type === 'USER-DEFINED' ? c.udt_name : c.type,
    }));
    if (options.json) return printJson({ columns: described, rows: first.rows });
    printTable(described, ['name', 'type']);
    process.stdout.write('\n');
    printRowsTable(first);
  });

  return tables;
}
