#!/usr/bin/env node
import { Command } from 'commander';
import type { RunningServer, StartupProgress } from './server.js';
import { accountsCommand } from './cli/accounts-command.js';
import { CliError } from './cli/cli-context.js';
import { connectionsCommand } from './cli/connections-command.js';
import { tilesetsCommand } from './cli/tilesets-command.js';
import { rastersCommand } from './cli/rasters-command.js';
import { mapsCommand } from './cli/maps-command.js';
import { usersCommand } from './cli/users-command.js';
import { appsCommand } from './cli/apps-command.js';
import { keysCommand } from './cli/keys-command.js';
import { RemoteError } from './cli/api-client.js';
import { completionCommands } from './cli/completion-command.js';
import { importCommand } from './cli/import-command.js';
import { initCommand } from './cli/init-command.js';
import { sqlCommand } from './cli/sql-command.js';
import { tablesCommand } from './cli/tables-command.js';
import { tokensCommand } from './cli/tokens-command.js';
import { ApiError } from './http/errors.js';
import { WarehouseError } from './warehouses/driver.js';

/** The settings list of the root help; the configuration module is loaded only for it. */
async function settingsHelp(): Promise<string> {
  const { describeSettings } = await import('./config/config.js');
  return `
See README.md for what each setting means.

Settings come from environment variables (or a JSON file named by GRATICULE_CONFIG_FILE):
${describeSettings()
  .map(
    (s) =>
      `  ${s.env.padEnd(36)} default: ${String(s.default) === '' ? '(none)' : String(s.default)}`,
  )
  .join('\n')}
`;
}

const COMMANDS_HELP = `
Commands that work on the data directory (accounts, users, apps, keys, connections,
tilesets, maps create|list|remove, init) open it directly. Commands that need the warehouse
(sql, tables, import, tokens, maps instantiate|tile) call a running server: give its address with
--url or GRATICULE_URL, and credentials with GRATICULE_TOKEN, or GRATICULE_CLIENT_ID and
GRATICULE_CLIENT_SECRET. See docs/cli.md.

Examples:
  $ graticule init
  $ graticule serve
  $ graticule sql "SELECT count(*) FROM demo.countries" --table
  $ graticule import places.geojson --table public.places
  $ graticule completion bash > ~/.local/share/bash-completion/completions/graticule
`;

function printProgress(progress: StartupProgress): void {
  const counts = progress.total > 1 ? ` ${progress.done}/${progress.total}` : '';
  const line = `  ${progress.step}${counts}`;
  if (process.stderr.isTTY) {
    process.stderr.write(`\r\x1b[2K${line}${progress.done >= progress.total ? '\n' : ''}`);
  } else if (progress.done === 0 || progress.done >= progress.total) {
    process.stderr.write(`${line}\n`);
  }
}

function printBanner(server: RunningServer, startedMs: number): void {
  const { bootstrap, url } = server;
  const readySeconds = ((Date.now() - startedMs) / 1000).toFixed(1);
  const demo = server.demoDataLoaded ? ' (demo data loaded)' : '';
  const lines = [
    '',
    `Graticule is listening on ${url} (ready in ${readySeconds} s)`,
    `Connection carto_dw: embedded PostGIS warehouse${demo}`,
    `Web console: ${url}/ui/    API reference: ${url}/docs/api/`,
    '',
  ];
  if (bootstrap.generatedSecret) {
    lines.push(
      'A Machine to Machine application was created. Its secret is shown this once:',
      `  client id:     ${bootstrap.clientId}`,
      `  client secret: ${bootstrap.generatedSecret}`,
      '',
      'Get an access token:',
      `  curl -s -X POST ${url}/oauth/token \\`,
      "    -H 'Content-Type: application/x-www-form-urlencoded' \\",
      '    -d grant_type=client_credentials -d audience=carto-cloud-native-api \\',
      `    -d client_id=${bootstrap.clientId} -d client_secret=${bootstrap.generatedSecret}`,
      '',
    );
  } else {
    lines.push(`Bootstrap application client id: ${bootstrap.clientId}`, '');
  }
  if (bootstrap.created) {
    lines.push(
      'To sign in through the browser flows, give the admin a password first:',
      '  npx graticule users set-password admin@graticule.local',
      '',
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Set while `serve` runs: its failures are start-up failures, the commands' are one line. */
let serving = false;

async function serve(): Promise<void> {
  serving = true;
  const startedMs = Date.now();
  const { loadConfig } = await import('./config/config.js');
  const config = loadConfig();
  process.stderr.write(`Starting Graticule (data directory ${config.dataDir})\n`);
  // Loaded here so the management commands start without the server's modules.
  const { startServer } = await import('./server.js');
  const server = await startServer(config, printProgress);
  printBanner(server, startedMs);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function main(): Promise<void> {
  // Everything Graticule writes (metadata store, keys, the embedded warehouse) is private to
  // the user it runs as.
  process.umask(0o077);
  // A reader that stops early (`graticule maps list | head`) is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  // Only the root's help lists the settings: subcommands (and shell completion, which runs on
  // every TAB) build the command tree without loading the configuration module.
  const args = process.argv.slice(2);
  const isRootHelp = args.includes('-h') || args.includes('--help') || args[0] === 'help';
  const isRoot = args.every((arg) => arg.startsWith('-')) || (args[0] === 'help' && !args[1]);
  const settingsText = isRoot && isRootHelp ? await settingsHelp() : '';
  const program = new Command('graticule')
    .description('A self-hosted CARTO 3 API over PostGIS, Redshift or an embedded warehouse.')
    .addHelpText('after', `${COMMANDS_HELP}${settingsText}`)
    .action(serve);
  program.command('serve').description('start the server (the default)').action(serve);
  program.addCommand(initCommand());
  program.addCommand(accountsCommand());
  program.addCommand(connectionsCommand());
  program.addCommand(tilesetsCommand());
  program.addCommand(rastersCommand());
  program.addCommand(mapsCommand());
  program.addCommand(usersCommand());
  program.addCommand(appsCommand());
  program.addCommand(keysCommand());
  program.addCommand(sqlCommand());
  program.addCommand(tablesCommand());
  program.addCommand(importCommand());
  program.addCommand(tokensCommand());
  const [completion, completionServer] = completionCommands();
  program.addCommand(completion!);
  program.addCommand(completionServer!, { hidden: true });
  await program.parseAsync(process.argv);
}

main().catch((error: unknown) => {
  // Compared by name: the configuration module is loaded only by the commands that need it.
  if ((error as Error | undefined)?.name === 'ConfigError') {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  if (error instanceof RemoteError) {
    process.stderr.write(`graticule: ${error.message}\n`);
    process.exit(1);
  }
  if (error instanceof ApiError || error instanceof CliError || error instanceof WarehouseError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(1);
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    const what = code === 'EADDRINUSE' ? 'is already in use' : 'may not be used by this user';
    process.stderr.write(`Graticule cannot listen: the address ${what}. Set HOST and PORT.\n`);
    process.exit(1);
  }
  if (!serving) {
    // A management command: one line, no stack (a file it could not write, a lost database).
    process.stderr.write(`error: ${(error as Error).message ?? String(error)}\n`);
    process.exit(1);
  }
  process.stderr.write(`Graticule failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
