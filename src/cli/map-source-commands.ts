import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { addApiOptions, ApiClient, RemoteError, type ApiOptions } from './api-client.js';
import { CliError, printJson } from './cli-context.js';
import { collectParameter, DEFAULT_CONNECTION } from './sql-command.js';

interface SourceOptions extends ApiOptions {
  connection: string;
  table?: string;
  query?: string;
  param?: unknown[];
  type?: string;
  column?: string;
  aggregationExp?: string;
  aggregationResLevel?: string;
  columns?: string;
  filters?: string;
  tileResolution?: string;
  format?: string;
  json?: boolean;
}

interface TileOptions extends SourceOptions {
  output?: string;
}

/** The flag of each Maps API parameter, for error messages that name the parameter. */
const FLAGS: Record<string, string> = {
  name: '--table',
  q: '--query',
  queryParameters: '--param',
  spatialDataType: '--type',
  spatialDataColumn: '--column',
  aggregationExp: '--aggregation-exp',
  aggregationResLevel: '--aggregation-res-level',
  columns: '--columns',
  filters: '--filters',
  tileResolution: '--tile-resolution',
  formatTiles: '--format',
};

/** Runs a Maps API call, naming the command's flags where the API names its parameters. */
async function withFlagNames<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof RemoteError)) throw error;
    const message = error.message
      .replace(/ \(HTTP \d+\)$/, '')
      .replace(/parameter '(\w+)'/, (text, key: string) =>
        FLAGS[key] ? `${text} (${FLAGS[key]})` : text,
      );
    throw new RemoteError(message, error.status);
  }
}

/** The parts of a TileJSON document the summary shows. */
interface TileJson {
  name: string;
  scheme: string;
  tiles: string[];
  minzoom: number;
  maxzoom: number;
  bounds: number[];
  center: number[];
  vector_layers: { fields: Record<string, string>; geometry_type?: string }[];
  tilestats?: { layers: { count?: number; geometry?: string | null }[] };
}

/** The Maps API parameters of a table or query source, as CARTO's clients send them. */
function sourceRequest(options: SourceOptions): { type: string; query: Record<string, string> } {
  if (options.table === undefined && options.query === undefined) {
    throw new CliError('name the source with --table <name> or --query <sql>');
  }
  const query: Record<string, string | undefined> = {
    name: options.table,
    q: options.query,
    queryParameters: options.param ? JSON.stringify(options.param) : undefined,
    spatialDataType: options.type,
    spatialDataColumn: options.column,
    aggregationExp: options.aggregationExp,
    aggregationResLevel: options.aggregationResLevel,
    columns: options.columns,
    filters: options.filters,
    tileResolution: options.tileResolution,
    formatTiles: options.format,
  };
  return {
    type: options.table === undefined ? 'query' : 'table',
    query: Object.fromEntries(
      Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
  };
}

function sourcePath(options: SourceOptions, type: string): string {
  return `/v3/maps/${encodeURIComponent(options.connection)}/${type}`;
}

/** Adds the options naming a table or query source to `command`. */
function addSourceOptions(command: Command): Command {
  return command
    .option('-c, --connection <name>', 'connection holding the source', DEFAULT_CONNECTION)
    .addOption(new Option('--table <name>', 'table source').conflicts('query'))
    .addOption(new Option('--query <sql>', 'query source (one SELECT)').conflicts('table'))
    .option('--param <value>', 'bind value for $1, $2, ... in --query (repeatable)', (v, p) =>
      collectParameter(v, p as unknown[] | undefined),
    )
    .addOption(
      new Option('--type <type>', 'spatial data type (default geo)').choices([
        'geo',
        'h3',
        'h3int',
        'quadbin',
      ]),
    )
    .option('--column <name>', 'spatial column (default geom, or h3 / quadbin)')
    .option('--aggregation-exp <sql>', 'select list aggregating a cell (h3 and quadbin sources)')
    .option('--aggregation-res-level <n>', 'cell levels below a tile (h3 and quadbin sources)')
    .option('--columns <list>', 'comma-separated columns the tiles carry (default: all)')
    .option('--filters <json>', "CARTO's filters, as JSON keyed by column")
    .option('--tile-resolution <r>', '0.25, 0.5, 1, 2 or 4');
}

function printSummary(connection: string, tileJson: TileJson): void {
  const layer = tileJson.tilestats?.layers[0];
  const fields = Object.entries(tileJson.vector_layers[0]?.fields ?? {})
    .filter(([name]) => !name.startsWith('_carto'))
    .map(([name, type]) => `${name} (${type})`);
  const kind = layer?.geometry ?? tileJson.vector_layers[0]?.geometry_type ?? tileJson.scheme;
  const lines = [
    `Source ${tileJson.name} on ${connection}: ${layer?.count ?? '?'} rows, ${kind}`,
    `Tiles:   ${tileJson.tiles.join('\n         ')}`,
    `Scheme:  ${tileJson.scheme}, zoom ${tileJson.minzoom} to ${tileJson.maxzoom}`,
    `Bounds:  ${tileJson.bounds.map((n) => Number(n.toFixed(6))).join(', ')}`,
    `Center:  ${tileJson.center.map((n) => Number(n.toFixed(6))).join(', ')}`,
    `Fields:  ${fields.join(', ') || '(none)'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The path of a tile: `z/x/y`, or a cell index for h3 and quadbin sources. */
function tilePath(tile: string): string {
  if (/^\d+\/\d+\/\d+$/.test(tile)) return tile;
  if (/^[0-9a-fA-F]{1,20}$/.test(tile)) return tile;
  throw new CliError(`'${tile}' is no tile: give z/x/y, or a cell index for h3 and quadbin`);
}

/** Where the tile goes: a file, or stdout when it is not a terminal (or with `-o -`). */
async function writeTile(body: Buffer, options: TileOptions): Promise<string | null> {
  if (options.output === '-' || (options.output === undefined && !process.stdout.isTTY)) {
    process.stdout.write(body);
    return null;
  }
  if (options.output === undefined) {
    throw new CliError('a tile is binary: write it to a file with -o <file> (-o - for stdout)');
  }
  const file = path.resolve(options.output);
  try {
    await writeFile(file, body);
  } catch (error) {
    throw new CliError(
      `cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  return file;
}

/** `graticule maps instantiate` and `graticule maps tile`, through a running server. */
export function addMapSourceCommands(maps: Command): void {
  const instantiate = addSourceOptions(
    maps
      .command('instantiate')
      .description("instantiate a table or query source and print its TileJSON's tile URL"),
  )
    .addOption(new Option('--format <format>', 'tile format').choices(['binary', 'mvt']))
    .option('--json', 'print the whole TileJSON');
  addApiOptions(instantiate)
    .addHelpText(
      'after',
      `
Examples:
  $ graticule maps instantiate --table demo.countries --format mvt
  $ graticule maps instantiate --table demo.places_h3 --type h3 --column h3 \\
      --aggregation-exp 'sum(population) AS population' --json`,
    )
    .action(async (options: SourceOptions) => {
      const api = await ApiClient.fromOptions(options);
      const { type, query } = sourceRequest(options);
      const tileJson = await withFlagNames(() =>
        api.json<TileJson>('GET', sourcePath(options, type), {
          query: { ...query, format: 'tilejson' },
        }),
      );
      if (options.json) return printJson(tileJson);
      printSummary(options.connection, tileJson);
    });

  const tile = addSourceOptions(
    maps
      .command('tile')
      .description('fetch one vector tile of a table or query source')
      .argument('<tile>', 'z/x/y, or a cell index for h3 and quadbin sources'),
  )
    .addOption(
      new Option('--format <format>', 'tile format').choices(['mvt', 'binary']).default('mvt'),
    )
    .option('-o, --output <file>', 'file to write (- for stdout; default stdout unless a terminal)')
    .option('--json', 'print what was written as JSON');
  addApiOptions(tile)
    .addHelpText(
      'after',
      `
Examples:
  $ graticule maps tile --table demo.countries 0/0/0 -o world.mvt
  $ graticule maps tile --table demo.us_states --format binary 4/3/6 > states.bin`,
    )
    .action(async (coordinates: string, options: TileOptions) => {
      const api = await ApiClient.fromOptions(options);
      const { type, query } = sourceRequest(options);
      const response = await withFlagNames(() =>
        api.request('GET', `${sourcePath(options, type)}/${tilePath(coordinates)}`, {
          query,
          accept: '*/*',
        }),
      );
      const body = Buffer.from(await response.arrayBuffer());
      const contentType = response.headers.get('content-type') ?? '';
      const file = await writeTile(body, options);
      if (file === null) return;
      if (options.json) {
        return printJson({ file, bytes: body.length, contentType, empty: body.length === 0 });
      }
      process.stdout.write(
        body.length === 0
          ? `Tile ${coordinates} is empty; wrote an empty ${file}.\n`
          : `Tile ${coordinates}: ${body.length} bytes (${contentType}) written to ${file}.\n`,
      );
    });
}
