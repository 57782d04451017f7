import { Command } from 'commander';
import type { CreateOptions, ExportOptions } from './tileset-actions.js';

const ACCOUNT_HELP = 'account id (default: the first account)';

export function tilesetsCommand(): Command {
  const tilesets = new Command('tilesets')
    .description('create pre-generated tilesets and export them (see docs/tilesets.md)')
    .addHelpText(
      'after',
      `
Examples:
  $ graticule tilesets create demo.countries_tiles --connection carto_dw \\
      --table demo.countries --max-zoom 6
  $ graticule tilesets create demo.places_h3_tiles --connection carto_dw \\
      --table demo.places_h3 --spatial-data-type h3 \\
      --aggregation-exp 'sum(population) AS population'
  $ graticule tilesets export demo.countries_tiles --connection carto_dw \\
      --output countries.pmtiles`,
    );

  tilesets
    .command('create <target>')
    .description('build a tileset table <target> from a table or a query')
    .requiredOption('--connection <name>', 'connection holding the source and the tileset')
    .option('--table <name>', 'source table')
    .option('--query <sql>', 'source query (one SELECT)')
    .option('--query-parameters <json>', 'JSON array of values for $1, $2, ... in --query')
    .option('--min-zoom <z>', 'first zoom level (default 0)')
    .option('--max-zoom <z>', 'last zoom level, up to 16 (default: the deepest within the limit)')
    .option('--format <format>', 'mvt (default) or binary (CARTO binary tiles)')
    .option('--geom-column <name>', 'geometry column of the source (default geom)')
    .option('--spatial-data-type <type>', 'h3, h3int or quadbin: tile cells, not geometries')
    .option('--spatial-data-column <name>', 'cell column of the source (default h3 or quadbin)')
    .option('--aggregation-exp <sql>', 'select list aggregating the cells (h3 and quadbin)')
    .option('--aggregation-res-level <n>', 'cell levels below a tile (default 4 h3, 6 quadbin)')
    .option('--tile-resolution <r>', '0.25, 0.5, 1, 2 or 4 (grid of 1024 × r per tile)')
    .option('--max-features <n>', 'most features in one tile')
    .option('--overwrite', 'replace an existing tileset of that name')
    .option('--account <id>', ACCOUNT_HELP)
    .option('--json', 'print JSON')
    .action(async (target: string, options: CreateOptions) => {
      const { createTilesetCommand } = await import('./tileset-actions.js');
      await createTilesetCommand(target, options);
    });

  tilesets
    .command('export <tileset>')
    .description('write an MVT tileset to a PMTiles archive')
    .requiredOption('--connection <name>', 'connection holding the tileset')
    .requiredOption('--output <file>', 'the .pmtiles file to write (replaced if it exists)')
    .option('--account <id>', ACCOUNT_HELP)
    .option('--json', 'print JSON')
    .action(async (tileset: string, options: ExportOptions) => {
      const { exportTilesetCommand } = await import('./tileset-actions.js');
      await exportTilesetCommand(tileset, options);
    });

  return tilesets;
}
