import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { ApiError } from '../http/errors.js';
import { parseTableName, type TableName } from '../maps/table-name.js';
import { addApiOptions, ApiClient, RemoteError, type ApiOptions } from './api-client.js';
import { CliError, printJson } from './cli-context.js';
import { ColumnSet, GEOMETRY_COLUMN, SQL_TYPES, type ImportColumn } from './import/column-types.js';
import {
  IMPORT_FORMATS,
  importFormatOf,
  ImportFileError,
  readImportRecords,
  type GeometryColumns,
  type ImportFormat,
} from './import/import-records.js';
import {
  analyzeSql,
  createTableSql,
  dropTableSql,
  InsertBatcher,
  renameTableSql,
  spatialIndexSql,
  TABLE_EXISTS_SQL,
} from './import/import-statements.js';
import { progressBar } from './progress.js';
import { DEFAULT_CONNECTION } from './sql-command.js';

interface ImportOptions extends ApiOptions {
  connection: string;
  table: string;
  format?: ImportFormat;
  lon?: string;
  lat?: string;
  wkt?: string;
  replace?: boolean;
  json?: boolean;
}

/** What the first reading of the file found: the columns, and how many rows and geometries. */
interface FileSurvey {
  columns: ImportColumn[];
  rows: number;
  geometries: number;
  geometryKind: 'geojson' | 'wkt' | 'point' | null;
}

/** Runs one statement through the SQL API; answers its rows. */
async function runSql(
  api: ApiClient,
  connection: string,
  q: string,
  queryParameters: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  const answer = await api.json<{ rows: Record<string, unknown>[] }>(
    'POST',
    `/v3/sql/${encodeURIComponent(connection)}/query`,
    { json: { q, queryParameters } },
  );
  return answer.rows;
}

function geometryColumnsOf(options: ImportOptions): GeometryColumns {
  if ((options.lon === undefined) !== (options.lat === undefined)) {
    throw new CliError('give --lon and --lat together');
  }
  if (options.wkt !== undefined && options.lon !== undefined) {
    throw new CliError('give either --lon and --lat, or --wkt');
  }
  return { lon: options.lon, lat: options.lat, wkt: options.wkt };
}

function tableNameOf(text: string): TableName {
  try {
    return parseTableName(text);
  } catch (error) {
    if (error instanceof ApiError) throw new CliError(`--table: ${error.message}`);
    throw error;
  }
}

/** A fresh name next to the target, which the rows go to until they are all in. */
function stagingNameOf(target: TableName): TableName {
  const suffix = `_import_${randomBytes(4).toString('hex')}`;
  return { schema: target.schema, table: `${target.table.slice(0, 63 - suffix.length)}${suffix}` };
}

async function checkedFile(file: string): Promise<number> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new CliError(`${file} is not a file`);
    return info.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Reads the whole file once: checks every record and infers the column types. */
async function surveyFile(
  file: string,
  format: ImportFormat,
  geometryColumns: GeometryColumns,
  sizeBytes: number,
): Promise<FileSurvey> {
  const columns = new ColumnSet();
  const kinds = new Set<'geojson' | 'wkt' | 'point'>();
  let rows = 0;
  let geometries = 0;
  const progress = progressBar(`Reading ${path.basename(file)}`, Math.max(1, sizeBytes));
  try {
    const onBytes = (bytes: number) => progress.update(bytes);
    for await (const record of readImportRecords(file, format, geometryColumns, onBytes)) {
      rows += 1;
      const problem = columns.observe(record);
      if (problem) throw new ImportFileError(file, record.where, problem);
      if (record.geometry) {
        geometries += 1;
        kinds.add(record.geometry.kind);
      }
    }
  } finally {
    progress.stop();
  }
  if (rows === 0) throw new ImportFileError(file, '', 'there are no rows to import');
  if (kinds.has('wkt') && kinds.size > 1) {
    throw new ImportFileError(file, '', 'mixes WKT with GeoJSON or coordinate geometries');
  }
  const geometryKind = kinds.has('geojson') ? 'geojson' : ([...kinds][0] ?? null);
  return { columns: columns.columns, rows, geometries, geometryKind };
}

/** Inserts every record into `table` in batches, with a progress bar of rows. */
async function loadRows(
  api: ApiClient,
  options: ImportOptions,
  file: string,
  format: ImportFormat,
  table: TableName,
  survey: FileSurvey,
): Promise<void> {
  const batcher = new InsertBatcher(table, survey.columns, survey.geometryKind);
  const progress = progressBar('Loading', survey.rows, 'rows');
  let loaded = 0;
  const send = async () => {
    const span = batcher.span;
    const count = batcher.size;
    const { sql, params } = batcher.take();
    try {
      await runSql(api, options.connection, sql, params);
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error;
      throw new RemoteError(`${path.basename(file)}: ${span}: ${error.message}`);
    }
    loaded += count;
    progress.update(loaded);
  };
  try {
    const records = readImportRecords(file, format, geometryColumnsOf(options));
    for await (const record of records) {
      if (batcher.add(record)) await send();
    }
    if (batcher.size > 0) await send();
  } finally {
    progress.stop();
  }
}

interface ImportSummary {
  file: string;
  format: ImportFormat;
  connection: string;
  table: string;
  rows: number;
  withGeometry: number;
  replaced: boolean;
  columns: { name: string; type: string; from?: string }[];
}

async function importFile(file: string, options: ImportOptions): Promise<ImportSummary> {
  const format = importFormatOf(file, options.format);
  const target = tableNameOf(options.table);
  const geometryColumns = geometryColumnsOf(options);
  const sizeBytes = await checkedFile(file);
  const api = await ApiClient.fromOptions(options);

  // Checked before the file is read: an unknown connection or a taken name fails at once.
  const [existing] = await runSql(api, options.connection, TABLE_EXISTS_SQL, [options.table]);
  const exists = existing?.exists === true;
  if (exists && !options.replace) {
    throw new CliError(
      `table ${options.table} exists already on ${options.connection}: give --replace`,
    );
  }
  const survey = await surveyFile(file, format, geometryColumns, sizeBytes);

  const staging = stagingNameOf(target);
  await runSql(api, options.connection, createTableSql(staging, survey.columns));
  try {
    await loadRows(api, options, file, format, staging, survey);
    if (options.replace) await runSql(api, options.connection, dropTableSql(target));
    await runSql(api, options.connection, renameTableSql(staging, target));
  } catch (error) {
    await runSql(api, options.connection, dropTableSql(staging)).catch(() => undefined);
    throw error;
  }
  await runSql(api, options.connection, spatialIndexSql(target));
  await runSql(api, options.connection, analyzeSql(target));

  return {
    file: path.resolve(file),
    format,
    connection: options.connection,
    table: options.table,
    rows: survey.rows,
    withGeometry: survey.geometries,
    replaced: exists,
    columns: [
      ...survey.columns.map((c) => ({
        name: c.name,
        type: SQL_TYPES[c.kind],
        ...(c.name === c.key ? {} : { from: c.key }),
      })),
      { name: GEOMETRY_COLUMN, type: 'geometry(Geometry,4326)' },
    ],
  };
}

function printSummary(summary: ImportSummary): void {
  const renamed = summary.columns.filter((c) => c.from !== undefined);
  const replacing = summary.replaced ? ', replacing the old table' : '';
  const rows = `${summary.rows} ${summary.rows === 1 ? 'row' : 'rows'}`;
  const lines = [
    `Imported ${rows} into ${summary.table} on ${summary.connection} ` +
      `(${summary.withGeometry} with geometry${replacing}).`,
    `Columns: ${summary.columns.map((c) => `${c.name} ${c.type}`).join(', ')}`,
  ];
  if (renamed.length > 0) {
    lines.push(`Renamed: ${renamed.map((c) => `'${c.from}' to ${c.name}`).join(', ')}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `graticule import`: loads a local GeoJSON, CSV or NDJSON file into a new table. */
export function importCommand(): Command {
  const command = new Command('import')
    .description('load a GeoJSON, CSV or NDJSON file into a new table through the SQL API')
    .argument('<file>', 'the file to load')
    .requiredOption('--table <name>', 'the table to create, e.g. public.places')
    .option('-c, --connection <name>', 'connection to create it on', DEFAULT_CONNECTION)
    .addOption(
      new Option('--format <format>', 'file format (default: from the extension)').choices(
        IMPORT_FORMATS,
      ),
    )
    .option('--lon <column>', 'longitude column of a CSV or NDJSON file (with --lat)')
    .option('--lat <column>', 'latitude column of a CSV or NDJSON file (with --lon)')
    .option('--wkt <column>', 'WKT geometry column of a CSV or NDJSON file')
    .option('--replace', 'replace the table if it exists')
    .option('--json', 'print the summary as JSON');
  addApiOptions(command)
    .addHelpText(
      'after',
      `
The file is read twice, with flat memory: first to check it and infer column types, then to
load it in batches. Rows land in a new table with a geom geometry(Geometry,4326) column; a CSV
without --lon/--lat or --wkt uses columns named longitude/latitude, lon/lat, lng/lat or x/y,
or wkt/the_geom/geom, when it has them.

Examples:
  $ graticule import places.geojson --table public.places
  $ graticule import stations.csv --table public.stations --lon lng --lat lat --replace
  $ graticule import roads.ndjson --table public.roads --wkt shape --json`,
    )
    .action(async (file: string, options: ImportOptions) => {
      const summary = await importFile(file, options);
      if (options.json) return printJson(summary);
      printSummary(summary);
    });
  return command;
}
