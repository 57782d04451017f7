import path from 'node:path';
import { Command } from 'commander';
import type { BootstrapResult } from '../accounts/bootstrap.js';
import { printJson } from './cli-context.js';

interface InitResult {
  dataDir: string;
  /** False when an earlier `init` or server start had made everything already. */
  initialised: boolean;
  accountId: string;
  clientId: string;
  /** Only when this run generated it: it is never shown again. */
  clientSecret?: string;
}

/**
 * Makes the data directory, keys, bootstrap account and Machine to Machine application as the
 * server's first start does (the same code), without opening the warehouse or listening.
 */
async function initialise(): Promise<InitResult> {
  // Loaded here: building the command tree needs none of these modules.
  const { loadConfig } = await import('../config/config.js');
  const { ensureBootstrap } = await import('../accounts/bootstrap.js');
  const { openDataDirectory } = await import('../server.js');
  const config = loadConfig();
  const { store } = await openDataDirectory(config, (message) =>
    process.stderr.write(`${message}\n`),
  );
  let bootstrap: BootstrapResult;
  try {
    bootstrap = await ensureBootstrap(store, {
      clientId: config.bootstrapClientId,
      clientSecret: config.bootstrapClientSecret,
    });
  } finally {
    await store.destroy();
  }
  const result: InitResult = {
    dataDir: path.resolve(config.dataDir),
    initialised: bootstrap.created || bootstrap.generatedSecret !== undefined,
    accountId: bootstrap.accountId,
    clientId: bootstrap.clientId,
  };
  if (bootstrap.generatedSecret !== undefined) result.clientSecret = bootstrap.generatedSecret;
  return result;
}

function printResult(result: InitResult): void {
  if (!result.initialised) {
    process.stdout.write(
      `Graticule is initialised already in ${result.dataDir}.\n` +
        `Bootstrap application client id: ${result.clientId}\n`,
    );
    return;
  }
  const secretLine =
    result.clientSecret === undefined
      ? '  client secret: the one set in GRATICULE_BOOTSTRAP_CLIENT_SECRET'
      : `  client secret: ${result.clientSecret}`;
  const lines = [
    `Graticule is initialised in ${result.dataDir}.`,
    'A Machine to Machine application was created. Its secret is shown this once:',
    `  client id:     ${result.clientId}`,
    secretLine,
    '',
    'Start the server with: graticule serve',
    'Let the command line call it:',
    `  export GRATICULE_CLIENT_ID=${result.clientId}`,
    '  export GRATICULE_CLIENT_SECRET=<the secret above>',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

/** `graticule init`: prepares a data directory without starting the server. */
export function initCommand(): Command {
  return new Command('init')
    .description(
      'create the data directory, keys, bootstrap account and Machine to Machine application ' +
        'without starting the server',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
The data directory is GRATICULE_DATA_DIR (default ./data). The application's secret is shown
once; running init again prints only the client id. The embedded warehouse and its demo data
are made by the server's first start.

Examples:
  $ GRATICULE_DATA_DIR=/var/lib/graticule graticule init
  $ graticule init --json`,
    )
    .action(async (options: { json?: boolean }) => {
      const result = await initialise();
      if (options.json) return printJson(result);
      printResult(result);
    });
}
