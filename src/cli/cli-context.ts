import type { Config } from '../config/config.js';
import type { ConnectionService } from '../connections/connection-service.js';
import type { Store } from '../store/store.js';

/** A command's failure, printed as one line without a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export interface CliContext {
  config: Config;
  store: Store;
  connections: ConnectionService;
  /** The account named by `--account`, or the first (bootstrap) account. */
  accountId(requested?: string): Promise<string>;
}

/**
 * Opens the data directory the server uses (metadata store and encryption key, as configured
 * by the same settings: the SQLite file, or the PostgreSQL store of GRATICULE_METADATA_URL),
 * runs a command, and closes everything. The server may be running: the store is shared
 * safely and the server sees changes on its next request.
 */
export async function withCliContext<T>(run: (context: CliContext) => Promise<T>): Promise<T> {
  // Loaded here, not at the top: building the command tree (for --help and shell completion)
  // stays quick when no command opens the data directory.
  const [
    { firstAccountId },
    { loadConfig },
    { ConnectionRegistry },
    { ConnectionService },
    { ConnectionStore },
    { postgresDriverFactory },
    { loadSecretBox },
    { openStore },
  ] = await Promise.all([
    import('../accounts/accounts.js'),
    import('../config/config.js'),
    import('../connections/connection-registry.js'),
    import('../connections/connection-service.js'),
    import('../connections/connection-store.js'),
    import('../connections/driver-factory.js'),
    import('../connections/secret-box.js'),
    import('../store/store.js'),
  ]);
  const config = loadConfig();
  const store = await openStore(config);
  const box = loadSecretBox(config, (message) => process.stderr.write(`${message}\n`));
  const connectionStore = new ConnectionStore(store, box);
  const createDriver = postgresDriverFactory({
    connectTimeoutMs: config.connectTimeoutMs,
    acquireTimeoutMs: config.poolAcquireTimeoutMs,
  });
  const registry = new ConnectionRegistry(connectionStore, createDriver);
  const connections = new ConnectionService(
    connectionStore,
    registry,
    createDriver,
    config.poolMaxConnections,
  );
  const accountId = async (requested?: string) => {
    if (requested) {
      const row = await store
        .selectFrom('accounts')
        .select('id')
        .where('id', '=', requested)
        .executeTakeFirst();
      if (!row) throw new CliError(`no account '${requested}' (see: graticule accounts list)`);
      return row.id;
    }
    const first = await firstAccountId(store);
    if (!first) {
      throw new CliError('no account yet: start the server once, or run graticule accounts create');
    }
    return first;
  };
  try {
    return await run({ config, store, connections, accountId });
  } finally {
    await registry.close();
    await store.destroy();
  }
}

/** Prints rows as aligned columns. */
export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  const cells = rows.map((row) => columns.map((c) => String(row[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  process.stdout.write(`${line(columns.map((c) => c.toUpperCase())).trimEnd()}\n`);
  for (const row of cells) process.stdout.write(`${line(row).trimEnd()}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
