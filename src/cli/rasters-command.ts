import { Command } from 'commander';
import type { WarehouseDriver } from '../warehouses/driver.js';
import { CliError, printJson, withCliContext } from './cli-context.js';

const BLOCK_SIZE = 256;
/** Most blocks at the native resolution a command line build writes. */
const MAX_NATIVE_BLOCKS = 20_000;

interface CreateRasterOptions {
  connection: string;
  table: string;
  column: string;
  resolution?: string;
  minResolution?: string;
  compress?: boolean;
  overwrite?: boolean;
  account?: string;
  json?: boolean;
}

function resolutionFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,2}$/.test(value)) throw new CliError(`${flag} must be a whole number from 0 to 18`);
  return Number(value);
}

/** The raster modules, loaded only when the command runs. */
async function loadRasterModules() {
  const [connections, registry, store, drivers, secrets, names, grid, build, source] =
    await Promise.all([
      import('../connections/connection-settings.js'),
      import('../connections/connection-registry.js'),
      import('../connections/connection-store.js'),
      import('../connections/driver-factory.js'),
      import('../connections/secret-box.js'),
      import('../maps/table-name.js'),
      import('../rasters/raster-grid.js'),
      import('../rasters/raster-build.js'),
      import('../rasters/postgis-raster-source.js'),
    ]);
  return { connections, registry, store, drivers, secrets, names, grid, build, source };
}

type RasterModules = Awaited<ReturnType<typeof loadRasterModules>>;

/**
 * Reads the PostGIS raster, picks the block resolution whose pixels are as fine as the
 * source's (or `--resolution`), overviews down to where the raster fits a block or two (or
 * `--min-resolution`), and writes the raster table.
 */
async function buildFromPostgis(
  m: RasterModules,
  driver: WarehouseDriver,
  target: string,
  options: CreateRasterOptions,
  timeoutMs: number,
) {
  const resolution = resolutionFlag(options.resolution, '--resolution');
  const minResolution = resolutionFlag(options.minResolution, '--min-resolution');
  const raster = await m.source.openPostgisRaster(
    driver,
    m.names.parseTableName(options.table),
    options.column,
    { blockSize: BLOCK_SIZE, timeoutMs },
  );
  const pixelZoom = Math.ceil(Math.log2((2 * m.grid.MERCATOR_HALF_WORLD) / raster.pixelMeters));
  const blockResolution = resolution ?? Math.max(0, Math.min(18, pixelZoom - 8));
  const [width, height] = m.grid.pixelExtent(raster.bounds, blockResolution, BLOCK_SIZE);
  const levels = Math.max(0, Math.ceil(Math.log2(Math.max(width, height) / BLOCK_SIZE)));
  const plan = {
    bands: raster.bands,
    bounds: raster.bounds,
    blockResolution,
    minResolution: minResolution ?? Math.max(0, blockResolution - levels),
    blockSize: BLOCK_SIZE,
    compression: options.compress ? ('gzip' as const) : null,
    sampleBlock: raster.sampleBlock,
    sourceCrs: `EPSG:${raster.srid}`,
  };
  m.build.checkRasterPlan(plan);
  const nativeBlocks = m.grid.blockCountCovering(raster.bounds, blockResolution);
  if (nativeBlocks > MAX_NATIVE_BLOCKS) {
    throw new CliError(
      `the raster would span ${nativeBlocks} blocks at resolution ${blockResolution}, more ` +
        `than ${MAX_NATIVE_BLOCKS}: pass a coarser --resolution`,
    );
  }
  const built = await m.build.buildRasterTable(driver, m.names.parseTableName(target), plan, {
    overwrite: options.overwrite === true,
    timeoutMs,
    onProgress: ({ resolution: z, done, total }) => {
      if (done === total) process.stderr.write(`resolution ${z}: ${total} blocks visited\n`);
    },
  });
  return {
    raster: target,
    blocks: built.blocks,
    nativeBlocks: built.nativeBlocks,
    minresolution: plan.minResolution,
    maxresolution: blockResolution,
    bands: raster.bands.map((band) => ({ name: band.name, type: band.type })),
    compression: plan.compression,
    bounds: raster.bounds,
  };
}

/** `graticule rasters create`: builds the raster table and prints what it made. */
async function createRasterCommand(target: string, options: CreateRasterOptions): Promise<void> {
  const m = await loadRasterModules();
  if (options.connection === m.connections.EMBEDDED_CONNECTION) {
    throw new CliError(
      'the embedded warehouse has no PostGIS raster support: use a PostgreSQL connection ' +
        '(its demo raster shows the layout, see docs/rasters.md)',
    );
  }
  const result = await withCliContext(async (cli) => {
    const registry = new m.registry.ConnectionRegistry(
      new m.store.ConnectionStore(cli.store, m.secrets.loadSecretBox(cli.config)),
      m.drivers.postgresDriverFactory({
        connectTimeoutMs: cli.config.connectTimeoutMs,
        acquireTimeoutMs: cli.config.poolAcquireTimeoutMs,
      }),
    );
    try {
      const accountId = await cli.accountId(options.account);
      const connection = await registry.resolve(accountId, options.connection);
      await connection.driver.ready?.().catch(() => undefined);
      return await buildFromPostgis(
        m,
        connection.driver,
        target,
        options,
        cli.config.queryTimeoutMs,
      );
    } finally {
      await registry.close();
    }
  });
  if (options.json) return printJson(result);
  process.stdout.write(
    `Raster ${result.raster} created: ${result.blocks} blocks, resolution ` +
      `${result.minresolution} to ${result.maxresolution}, bands ` +
      `${result.bands.map((band) => `${band.name} (${band.type})`).join(', ')}.\n`,
  );
}

export function rastersCommand(): Command {
  const rasters = new Command('rasters')
    .description('create raster tables served as raster sources (see docs/rasters.md)')
    .addHelpText(
      'after',
      `
Examples:
  $ graticule rasters create analysis.dem_raster --connection pg_main \\
      --table public.dem --column rast
  $ graticule rasters create analysis.landsat_raster --connection pg_main \\
      --table public.landsat --resolution 9 --min-resolution 4 --compress`,
    );

  rasters
    .command('create <target>')
    .description('build a raster table <target> from a PostGIS raster table (postgis_raster)')
    .requiredOption('--connection <name>', 'PostgreSQL connection holding source and target')
    .requiredOption('--table <name>', 'the PostGIS raster table')
    .option('--column <name>', 'its raster column', 'rast')
    .option('--resolution <z>', "block resolution (default: pixels as fine as the source's)")
    .option('--min-resolution <z>', 'coarsest overview (default: where the raster fits a block)')
    .option('--compress', 'gzip each band of each block')
    .option('--overwrite', 'replace an existing raster table of that name')
    .option('--account <id>', 'account id (default: the first account)')
    .option('--json', 'print JSON')
    .action(createRasterCommand);

  return rasters;
}
