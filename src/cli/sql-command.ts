import { once } from 'node:events';
import { Command, Option } from 'commander';
import type { JobResponse } from '../jobs/job-response.js';
import { addApiOptions, ApiClient, RemoteError, type ApiOptions } from './api-client.js';
import { CliError, printJson } from './cli-context.js';
import { spinner } from './progress.js';

/** The embedded warehouse: the connection every Graticule server has. */
export const DEFAULT_CONNECTION = 'carto_dw';
/** Longest cell of the aligned table on a terminal; `--json` shows whole values. */
const MAX_TERMINAL_CELL = 80;
const FIRST_POLL_MS = 200;
const MAX_POLL_MS = 2_000;
const FINISHED: readonly string[] = ['success', 'failure', 'cancelled'];

interface SqlOptions extends ApiOptions {
  connection: string;
  param?: unknown[];
  table?: boolean;
  json?: boolean;
  ndjson?: boolean;
  csv?: boolean;
  job?: boolean;
}

interface SqlAnswer {
  rows: Record<string, unknown>[];
  schema: { name: string; type: string }[];
}

/**
 * A `--param` value: JSON numbers, `true`, `false`, `null`, arrays and objects as such, any
 * other text as a string (so `--param 5` binds 5 and `--param '"5"'` the text "5").
 */
export function parseParameter(text: string): unknown {
  const looksJson =
    /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text) ||
    ['true', 'false', 'null'].includes(text) ||
    /^[[{"]/.test(text);
  if (!looksJson) return text;
  try {
    const value = JSON.parse(text) as unknown;
    // Integers past 2^53 would lose digits as numbers; PostgreSQL reads them from text.
    return typeof value === 'number' && !Number.isSafeInteger(value) && /^-?\d+$/.test(text)
      ? text
      : value;
  } catch {
    return text;
  }
}

/** A repeatable `--param`: each use adds one bind value for `$1`, `$2`, ... */
export function collectParameter(value: string, previous: unknown[] | undefined): unknown[] {
  return [...(previous ?? []), parseParameter(value)];
}

/** Reads all of stdin as text (a query piped in, or a heredoc). */
export async function readStdinText(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function queryText(argument: string | undefined): Promise<string> {
  if (argument !== undefined) return argument;
  if (process.stdin.isTTY) {
    throw new CliError('give the query as an argument or on stdin');
  }
  const text = await readStdinText();
  if (text.trim() === '') throw new CliError('no query on stdin');
  return text;
}

function cellText(value: unknown, limit: number): string {
  if (value === null || value === undefined) return '';
  const text = (typeof value === 'object' ? JSON.stringify(value) : String(value)).replace(
    /\r?\n/g,
    '\\n',
  );
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** Prints the rows as aligned columns (numbers to the right), with psql's row count below. */
export function printRowsTable(answer: SqlAnswer): void {
  if (answer.schema.length === 0) {
    process.stdout.write('OK\n');
    return;
  }
  const limit = process.stdout.isTTY ? MAX_TERMINAL_CELL : Number.POSITIVE_INFINITY;
  const names = answer.schema.map((field) => field.name);
  const numeric = answer.schema.map((field) => field.type === 'number' || field.type === 'bigint');
  const cells = answer.rows.map((row) => names.map((name) => cellText(row[name], limit)));
  const widths = names.map((name, i) => Math.max(name.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => (numeric[i] ? value.padStart(widths[i]!) : value.padEnd(widths[i]!)))
      .join(' | ')
      .trimEnd();
  const out = [
    line(names.map((name, i) => (numeric[i] ? name.padStart(widths[i]!) : name))),
    widths.map((width) => '-'.repeat(width)).join('-+-'),
    ...cells.map(line),
    `(${answer.rows.length} ${answer.rows.length === 1 ? 'row' : 'rows'})`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Copies a streamed answer to stdout as it arrives, honouring back-pressure. */
export async function pipeToStdout(response: Response): Promise<void> {
  try {
    for await (const chunk of ApiClient.bodyStream(response)) {
      if (!process.stdout.write(chunk as Buffer)) await once(process.stdout, 'drain');
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new RemoteError(`the server cut the answer short (${(error as Error).message})`);
  }
}

function outputOf(options: SqlOptions): 'table' | 'json' | 'ndjson' | 'csv' {
  if (options.json) return 'json';
  if (options.ndjson) return 'ndjson';
  if (options.csv) return 'csv';
  if (options.table) return 'table';
  // A terminal gets a table; pipes and files get rows they can stream and parse.
  return process.stdout.isTTY ? 'table' : 'ndjson';
}

function connectionPath(connection: string): string {
  return encodeURIComponent(connection);
}

async function runQuery(api: ApiClient, q: string, options: SqlOptions): Promise<void> {
  const output = outputOf(options);
  const body = { q, queryParameters: options.param ?? [] };
  const path = `/v3/sql/${connectionPath(options.connection)}/query`;
  if (output === 'ndjson' || output === 'csv') {
    const response = await api.request('POST', path, {
      query: { format: output },
      json: body,
      accept: output === 'csv' ? 'text/csv' : 'application/x-ndjson',
    });
    return pipeToStdout(response);
  }
  const answer = await api.json<SqlAnswer>('POST', path, { json: body });
  if (output === 'json') return printJson(answer.rows);
  printRowsTable(answer);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `q` as an async SQL job and waits for it; Ctrl-C cancels the job on the server. */
async function runJob(api: ApiClient, q: string, options: SqlOptions): Promise<void> {
  const base = `/v3/sql/${connectionPath(options.connection)}/job`;
  let job = await api.json<JobResponse>('POST', base, {
    json: { query: q, queryParameters: options.param ?? [] },
  });
  const jobPath = `${base}/${encodeURIComponent(job.externalId)}`;
  const startedMs = Date.now();
  const progress = spinner(`job ${job.externalId} ${job.status}`);
  const cancel = () => {
    progress.stop();
    process.stderr.write(`Cancelling job ${job.externalId}\n`);
    api.request('DELETE', jobPath).then(
      () => process.exit(130),
      () => process.exit(130),
    );
  };
  process.once('SIGINT', cancel);
  try {
    let delayMs = FIRST_POLL_MS;
    while (!FINISHED.includes(job.status)) {
      await sleep(delayMs);
      delayMs = Math.min(MAX_POLL_MS, Math.round(delayMs * 1.5));
      job = await api.json<JobResponse>('GET', jobPath);
      const seconds = ((Date.now() - startedMs) / 1000).toFixed(0);
      progress.say(`job ${job.externalId} ${job.status} (${seconds} s)`);
    }
  } finally {
    process.removeListener('SIGINT', cancel);
    progress.stop();
  }

  if (options.json) printJson(job);
  if (job.status === 'failure') {
    throw new RemoteError(`job ${job.externalId} failed: ${job.error?.message ?? 'unknown error'}`);
  }
  if (job.status === 'cancelled') throw new CliError(`job ${job.externalId} was cancelled`);
  if (options.json) return;
  const { rowCount, durationMs } = job.jobMetadata;
  process.stdout.write(
    `Job ${job.externalId} succeeded` +
      (rowCount === undefined ? '' : `: ${rowCount} rows`) +
      (durationMs === undefined ? '' : ` in ${durationMs} ms`) +
      '.\n',
  );
}

/** `graticule sql`: runs SQL on a connection through a running server's SQL API. */
export function sqlCommand(): Command {
  const formats = ['table', 'json', 'ndjson', 'csv'];
  const outputOption = (name: string, description: string) =>
    new Option(`--${name}`, description).conflicts(formats.filter((other) => other !== name));
  const command = new Command('sql')
    .description('run a SQL statement on a connection through the SQL API of a running server')
    .argument('[query]', 'one SQL statement (default: read from stdin)')
    .option('-c, --connection <name>', 'connection to run it on', DEFAULT_CONNECTION)
    .option('--param <value>', 'bind value for $1, $2, ... (repeatable; JSON or text)', (v, p) =>
      collectParameter(v, p as unknown[] | undefined),
    )
    .addOption(outputOption('table', 'print an aligned table (the default on a terminal)'))
    .addOption(outputOption('json', "print the API's rows as JSON"))
    .addOption(
      outputOption('ndjson', 'stream one JSON row a line (the default when not a terminal)'),
    )
    .addOption(outputOption('csv', 'stream CSV with a header row'))
    .addOption(
      new Option('--job', 'run it as an async SQL job and wait for it').conflicts([
        'table',
        'ndjson',
        'csv',
      ]),
    );
  addApiOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  $ graticule sql "SELECT name, population FROM demo.populated_places LIMIT 5" --table
  $ graticule sql 'SELECT * FROM demo.countries WHERE name = $1' --param Spain --json
  $ echo "CREATE TABLE public.big AS SELECT * FROM demo.populated_places" | graticule sql --job`,
    )
    .action(async (argument: string | undefined, options: SqlOptions) => {
      const q = await queryText(argument);
      const api = await ApiClient.fromOptions(options);
      if (options.job) return runJob(api, q, options);
      return runQuery(api, q, options);
    });
  return command;
}
