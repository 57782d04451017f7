import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { CliError, printJson, printTable, withCliContext } from './cli-context.js';

interface AddOptions {
  provider: string;
  host: string;
  port?: number;
  database: string;
  username: string;
  passwordStdin?: boolean;
  sslmode?: string;
  caFile?: string;
  schema?: string;
  readOnly?: boolean;
  maxConnections?: number;
  account?: string;
  json?: boolean;
}

function integerOption(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number)) throw new InvalidArgumentError('not an integer');
  return number;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * The password comes from stdin or GRATICULE_CONNECTION_PASSWORD, never from an argument,
 * which other users of the machine could read in the process list.
 */
async function readPassword(options: AddOptions): Promise<string> {
  const password = options.passwordStdin
    ? await readStdin()
    : (process.env.GRATICULE_CONNECTION_PASSWORD ?? '');
  if (password === '') {
    throw new CliError(
      'give the password on stdin (--password-stdin) or in ' + 'GRATICULE_CONNECTION_PASSWORD',
    );
  }
  return password;
}

function tilesLine(nativeMvt: boolean): string {
  return nativeMvt ? 'built in the database' : 'encoded by Graticule';
}

export function connectionsCommand(): Command {
  const connections = new Command('connections')
    .description('manage warehouse connections')
    .addHelpText(
      'after',
      `
Examples:
  $ echo "$PGPASSWORD" | graticule connections add pg_main --host db.internal \\
      --database gis --username reader --password-stdin
  $ graticule connections test pg_main`,
    );

  connections
    .command('list')
    .description("list an account's connections")
    .option('--account <id>', 'account id (default: the first account)')
    .option('--json', 'print JSON')
    .action(async (options: { account?: string; json?: boolean }) => {
      const rows = await withCliContext(async (cli) =>
        cli.connections.list(await cli.accountId(options.account)),
      );
      if (options.json) return printJson(rows);
      const flat = rows.map((c) => ({
        ...c,
        host: c.managed ? '(embedded)' : `${c.config.host}:${c.config.port}`,
        database: c.config.database ?? '',
      }));
      printTable(flat, ['id', 'name', 'provider_id', 'host', 'database']);
    });

  connections
    .command('add <name>')
    .description('add a PostgreSQL or Redshift connection')
    .option('--provider <provider>', 'postgres or redshift', 'postgres')
    .requiredOption('--host <host>', 'server host name or address')
    .option('--port <port>', 'server port (default 5432, Redshift 5439)', integerOption)
    .requiredOption('--database <database>', 'database name')
    .requiredOption('--username <username>', 'user name')
    .option('--password-stdin', 'read the password from stdin (else GRATICULE_CONNECTION_PASSWORD)')
    .option('--sslmode <mode>', 'disable, prefer, require, verify-ca or verify-full')
    .option('--ca-file <file>', 'PEM file of the certificate authority to trust')
    .option('--schema <schema>', 'schema searched first for unqualified names')
    .option('--read-only', 'start sessions read-only')
    .option('--max-connections <n>', 'connection pool size', integerOption)
    .option('--account <id>', 'account id (default: the first account)')
    .option('--json', 'print JSON')
    .action(async (name: string, options: AddOptions) => {
      const body = {
        name,
        provider_id: options.provider,
        config: {
          host: options.host,
          port: options.port,
          database: options.database,
          username: options.username,
          password: await readPassword(options),
          sslmode: options.sslmode,
          ca: options.caFile ? readFileSync(options.caFile, 'utf8') : undefined,
          schema: options.schema,
          readOnly: options.readOnly,
          maxConnections: options.maxConnections,
        },
      };
      const created = await withCliContext(async (cli) =>
        cli.connections.create(await cli.accountId(options.account), body),
      );
      if (options.json) return printJson(created);
      process.stdout.write(`Connection ${created.name} (${created.id}) added.\n`);
    });

  connections
    .command('test <name>')
    .description('connect and report the server version, PostGIS and capabilities')
    .option('--account <id>', 'account id (default: the first account)')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { account?: string; json?: boolean }) => {
      const report = await withCliContext(async (cli) =>
        cli.connections.test(await cli.accountId(options.account), name),
      );
      if (options.json) return printJson(report);
      process.stdout.write(
        [
          `Connection ${name} works (${report.latencyMs} ms).`,
          `  server:  ${report.serverVersion}`,
          `  PostGIS: ${report.postgisVersion ?? 'not installed'}`,
          `  tiles:   ${tilesLine(report.capabilities.nativeMvt)}`,
          '',
        ].join('\n'),
      );
    });

  connections
    .command('remove <name>')
    .description('remove a connection')
    .option('--account <id>', 'account id (default: the first account)')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { account?: string; json?: boolean }) => {
      await withCliContext(async (cli) =>
        cli.connections.remove(await cli.accountId(options.account), name),
      );
      if (options.json) return printJson({ name, removed: true });
      process.stdout.write(`Connection ${name} removed.\n`);
    });

  return connections;
}
