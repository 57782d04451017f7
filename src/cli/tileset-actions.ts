/**
 * What `graticule tilesets` does, loaded only when one of its commands runs: it needs the
 * warehouse drivers and the tile encoders, which building the command tree does not.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/config.js';
import { ConnectionRegistry } from '../connections/connection-registry.js';
import { EMBEDDED_CONNECTION } from '../connections/connection-settings.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { postgresDriverFactory } from '../connections/driver-factory.js';
import { loadSecretBox } from '../connections/secret-box.js';
import { closeRowTileEncoderPool } from '../maps/tiles/row-tile-encoder-pool.js';
import { closeTileEncoderPool } from '../maps/tiles/tile-encoder-pool.js';
import { createTileset, type TilesetProgress } from '../tilesets/create-tileset.js';
import { exportTilesetToPmtiles } from '../tilesets/pmtiles-export.js';
import { readTilesetOptions, type TilesetOptions } from '../tilesets/tileset-options.js';
import { ApiError } from '../http/errors.js';
import type { WarehouseDriver } from '../warehouses/driver.js';
import { EmbeddedWarehouse } from '../warehouses/embedded/embedded-warehouse.js';
import { CliError, printJson, withCliContext, type CliContext } from './cli-context.js';

const BAR_WIDTH = 30;

export interface CreateOptions {
  connection: string;
  table?: string;
  query?: string;
  queryParameters?: string;
  minZoom?: string;
  maxZoom?: string;
  format?: string;
  geomColumn?: string;
  spatialDataType?: string;
  spatialDataColumn?: string;
  aggregationExp?: string;
  aggregationResLevel?: string;
  tileResolution?: string;
  maxFeatures?: string;
  overwrite?: boolean;
  account?: string;
  json?: boolean;
}

export interface ExportOptions {
  connection: string;
  output: string;
  account?: string;
  json?: boolean;
}

/**
 * Opens the embedded warehouse of the data directory. PGlite is one process's database: while
 * a server has it open (its `postmaster.pid` exists) a second opener would corrupt it.
 */
async function openEmbeddedWarehouse(cli: CliContext): Promise<EmbeddedWarehouse> {
  const dataDir = path.join(cli.config.dataDir, 'warehouse');
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    throw new CliError(`no embedded warehouse in ${dataDir}: start the server once`);
  }
  if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
    throw new CliError(
      `the embedded warehouse in ${dataDir} is open in a running Graticule server. Stop the ` +
        `server first, or create the tileset through the API while it runs ` +
        `(POST /v3/maps/${EMBEDDED_CONNECTION}/tileset/jobs). If no server runs, the last one ` +
        'did not stop cleanly: start it and stop it once.',
    );
  }
  return EmbeddedWarehouse.open({
    dataDir,
    queueLimit: cli.config.warehouseQueueLimit,
    maxResultBytes: cli.config.maxResultMegabytes * 1024 * 1024,
  });
}

/** Runs `work` with the driver of connection `name`, then closes what was opened for it. */
async function withWarehouse<T>(
  connectionName: string,
  account: string | undefined,
  work: (driver: WarehouseDriver, cli: CliContext) => Promise<T>,
): Promise<T> {
  return withCliContext(async (cli) => {
    if (connectionName === EMBEDDED_CONNECTION) {
      const warehouse = await openEmbeddedWarehouse(cli);
      try {
        return await work(warehouse, cli);
      } finally {
        await warehouse.close();
        await closeTileEncoderPool();
        await closeRowTileEncoderPool();
      }
    }
    const store = new ConnectionStore(cli.store, loadSecretBox(cli.config));
    const createDriver = postgresDriverFactory({
      connectTimeoutMs: cli.config.connectTimeoutMs,
      acquireTimeoutMs: cli.config.poolAcquireTimeoutMs,
    });
    const registry = new ConnectionRegistry(store, createDriver);
    try {
      const connection = await registry.resolve(await cli.accountId(account), connectionName);
      await connection.driver.ready?.().catch(() => undefined);
      return await work(connection.driver, cli);
    } finally {
      await registry.close();
      await closeTileEncoderPool();
      await closeRowTileEncoderPool();
    }
  });
}

/**
 * A progress bar on stderr: redrawn in place on a terminal, one line per zoom level (and at
 * the end) otherwise, so logs of scripted runs stay short.
 */
function progressPrinter(): (progress: TilesetProgress) => void {
  const isTty = process.stderr.isTTY === true;
  let lastZoom = -1;
  let lastDrawMs = 0;
  return (progress) => {
    const share = progress.tilesEstimated > 0 ? progress.tilesDone / progress.tilesEstimated : 1;
    const filled = Math.round(Math.min(1, share) * BAR_WIDTH);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
    const line =
      `${bar} ${Math.floor(share * 100)}% zoom ${progress.zoom}, ` +
      `${progress.tilesDone}/${progress.tilesEstimated} tiles visited, ` +
      `${progress.tilesWritten} written`;
    const isLast = progress.phase === 'done';
    if (isTty) {
      const now = Date.now();
      if (!isLast && now - lastDrawMs < 100) return;
      lastDrawMs = now;
      process.stderr.write(`\r\x1b[2K${line}${isLast ? '\n' : ''}`);
    } else if (progress.zoom !== lastZoom || isLast) {
      lastZoom = progress.zoom;
      process.stderr.write(`${line}\n`);
    }
  };
}

/** The flag of each option the HTTP job names by its JSON key. */
const FLAGS: Record<string, string> = {
  name: '<target>',
  table: '--table',
  query: '--query',
  queryParameters: '--query-parameters',
  minZoom: '--min-zoom',
  maxZoom: '--max-zoom',
  format: '--format',
  geomColumn: '--geom-column',
  spatialDataType: '--spatial-data-type',
  spatialDataColumn: '--spatial-data-column',
  aggregationExp: '--aggregation-exp',
  aggregationResLevel: '--aggregation-res-level',
  tileResolution: '--tile-resolution',
  maxFeatures: '--max-features',
};

/** Validates the flags as the HTTP job validates its body, naming flags in messages. */
function readCreation(target: string, options: CreateOptions): TilesetOptions {
  try {
    return readTilesetOptions(creationParameters(target, options), {
      maxFeatures: loadConfig().tileMaxFeatures,
    });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const message = error.message
      .replace("as 'table' (a table name) or 'query' (SQL)", 'with --table or --query')
      .replace(/'(\w+)'/g, (quoted, key: string) => FLAGS[key] ?? quoted);
    throw new CliError(message);
  }
}

/** The same options object the HTTP job takes, from the command's flags. */
function creationParameters(target: string, options: CreateOptions): Record<string, unknown> {
  const params: Record<string, unknown> = {
    name: target,
    table: options.table,
    query: options.query,
    queryParameters: options.queryParameters,
    minZoom: options.minZoom,
    maxZoom: options.maxZoom,
    format: options.format,
    geomColumn: options.geomColumn,
    spatialDataType: options.spatialDataType,
    spatialDataColumn: options.spatialDataColumn,
    aggregationExp: options.aggregationExp,
    aggregationResLevel: options.aggregationResLevel,
    tileResolution: options.tileResolution,
    maxFeatures: options.maxFeatures,
    overwrite: options.overwrite ? 'true' : undefined,
  };
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
}

/** `graticule tilesets create`: builds the tileset and prints what it made. */
export async function createTilesetCommand(target: string, options: CreateOptions): Promise<void> {
  // Checked before the warehouse opens, which takes seconds for the embedded one.
  const creation = readCreation(target, options);
  const result = await withWarehouse(options.connection, options.account, (driver, cli) =>
    createTileset(
      driver,
      options.connection,
      creation,
      {
        timeoutMs: cli.config.queryTimeoutMs,
        maxTiles: cli.config.tilesetMaxTiles,
        exactStatsRows: cli.config.mapsExactStatsRows,
      },
      { onProgress: progressPrinter() },
    ),
  );
  if (options.json) return printJson(result);
  const isCells = result.scheme !== 'xyz';
  process.stdout.write(
    `Tileset ${result.tileset} created: ${result.tileCount} ` +
      `${isCells ? result.scheme : result.format} tiles, ` +
      `${isCells ? 'resolution' : 'zoom'} ${result.minzoom} to ${result.maxzoom}, ` +
      `${result.bytes} bytes.\n`,
  );
}

/** `graticule tilesets export`: writes the PMTiles archive and prints what it wrote. */
export async function exportTilesetCommand(tileset: string, options: ExportOptions): Promise<void> {
  const output = path.resolve(options.output);
  const result = await withWarehouse(options.connection, options.account, (driver, cli) =>
    exportTilesetToPmtiles(driver, tileset, output, { timeoutMs: cli.config.queryTimeoutMs }),
  );
  if (options.json) return printJson(result);
  process.stdout.write(`Tileset ${tileset} exported to ${output}: ${result.tileCount} tiles.\n`);
}
