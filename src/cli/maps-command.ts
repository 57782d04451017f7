import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { addMapSourceCommands } from './map-source-commands.js';
import type { SavedMapService } from '../public-maps/saved-map-service.js';
import { CliError, printJson, printTable, withCliContext, type CliContext } from './cli-context.js';

const ACCOUNT_HELP = 'account id (default: the first account)';

/** The body of `POST /v3/maps`, read from a JSON file. */
async function readMapFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(`cannot read ${file} (${code})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`${file} is not JSON: ${(error as Error).message}`);
  }
}

/** The saved maps service, loaded when a command runs, not when the tree is built. */
async function mapsOf(cli: CliContext): Promise<SavedMapService> {
  const { SavedMapService } = await import('../public-maps/saved-map-service.js');
  const { SavedMapStore } = await import('../public-maps/saved-map-store.js');
  const { ApiTokenService } = await import('../tokens/api-token-service.js');
  // Public maps' tokens follow their maps here too: removing a map revokes its token.
  const tokens = await ApiTokenService.open(cli.store, {
    connections: { get: () => Promise.reject(new Error('no connection lookups here')) },
    cacheTtlMs: 0,
  });
  return new SavedMapService(new SavedMapStore(cli.store), undefined, tokens);
}

/** `graticule maps`: saved maps, the ones CARTO's fetchMap reads from /v3/maps/public/{id}. */
export function mapsCommand(): Command {
  const maps = new Command('maps')
    .description('manage saved maps (read by fetchMap) and instantiate sources and tiles')
    .addHelpText(
      'after',
      `
Examples:
  $ graticule maps create --file world.json
  $ graticule maps instantiate --table demo.countries
  $ graticule maps tile --table demo.countries 2/1/1 -o countries-2-1-1.mvt`,
    );

  maps
    .command('create')
    .description('save a map from a JSON file shaped as the body of POST /v3/maps')
    .requiredOption('--file <file>', 'JSON file: {title, description?, privacy?, datasets, ...}')
    .option('--account <id>', ACCOUNT_HELP)
    .option('--json', 'print JSON')
    .action(async (options: { file: string; account?: string; json?: boolean }) => {
      const body = await readMapFile(options.file);
      const created = await withCliContext(async (cli) =>
        (await mapsOf(cli)).create(await cli.accountId(options.account), body),
      );
      if (options.json) return printJson(created);
      process.stdout.write(`Map ${created.id} created (${created.privacy}): ${created.title}\n`);
    });

  maps
    .command('list')
    .description("list an account's saved maps, most recently changed first")
    .option('--account <id>', ACCOUNT_HELP)
    .option('--json', 'print JSON')
    .action(async (options: { account?: string; json?: boolean }) => {
      const page = await withCliContext(async (cli) =>
        (await mapsOf(cli)).list(await cli.accountId(options.account), { pageSize: '1000' }),
      );
      if (options.json) return printJson(page);
      const rows = page.data.map((m) => ({ ...m, updated: m.updatedAt }));
      printTable(rows, ['id', 'title', 'privacy', 'updated']);
      if (page.meta.total > page.data.length) {
        process.stdout.write(`(${page.data.length} of ${page.meta.total} shown)\n`);
      }
    });

  maps
    .command('remove <id>')
    .description('remove a saved map')
    .option('--account <id>', ACCOUNT_HELP)
    .option('--json', 'print JSON')
    .action(async (id: string, options: { account?: string; json?: boolean }) => {
      await withCliContext(async (cli) =>
        (await mapsOf(cli)).remove(await cli.accountId(options.account), id),
      );
      if (options.json) return printJson({ id, removed: true });
      process.stdout.write(`Map ${id} removed.\n`);
    });

  addMapSourceCommands(maps);
  return maps;
}
