import { Command, InvalidArgumentError } from 'commander';
import type { ApiTokenView, TokenGrant } from '../tokens/api-token-record.js';
import { addApiOptions, ApiClient, RemoteError, type ApiOptions } from './api-client.js';
import { printJson, printTable } from './cli-context.js';

interface TokenOptions extends ApiOptions {
  json?: boolean;
  /** Every token of the account, whoever created it (admins). */
  all?: boolean;
}

/** A token of the account as its admins list it, with its creator. */
interface AccountTokenView extends ApiTokenView {
  created_by: string;
  creator_kind: string;
  creator_email: string | null;
}

/** One of the account's tokens by id, else by name (admins). */
async function findAccountToken(api: ApiClient, key: string): Promise<AccountTokenView> {
  const page = await api.json<{ data: AccountTokenView[] }>('GET', '/v3/account/tokens');
  const byId = page.data.find((token) => token.id === key);
  if (byId) return byId;
  // Names are unique per creator only: a name several creators use must be given as an id.
  const named = page.data.filter((token) => token.name === key);
  if (named.length > 1) {
    throw new RemoteError(`${named.length} tokens are named '${key}'; give the token id`);
  }
  if (!named[0]) throw new RemoteError(`no token of the account with the id or name '${key}'`, 404);
  return named[0];
}

interface ChangeOptions extends TokenOptions {
  name?: string;
  grant?: TokenGrant[];
  api?: string[];
  referer?: string[];
}

interface CreateOptions extends ChangeOptions {
  expires?: string;
}

/**
 * A `--grant <connection>:<source>`; the source is everything after the first colon, so SQL
 * with casts (`::text`) and patterns (`demo.*`) pass unchanged.
 */
function collectGrant(value: string, previous: TokenGrant[] | undefined): TokenGrant[] {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) {
    throw new InvalidArgumentError(
      "expected <connection>:<source>, e.g. carto_dw:demo.countries or 'carto_dw:demo.*'",
    );
  }
  const grant = { connection_name: value.slice(0, colon), source: value.slice(colon + 1) };
  return [...(previous ?? []), grant];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function apiList(value: string): string[] {
  const apis = value
    .split(',')
    .map((api) => api.trim())
    .filter((api) => api !== '');
  if (apis.length === 0) throw new InvalidArgumentError('expected a list such as sql,maps');
  return apis;
}

/**
 * An expiration date: ISO 8601 as the API takes it; a bare date means its midnight, UTC.
 */
function expirationDate(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
}

function tokenPath(key: string): string {
  return `/v3/tokens/${encodeURIComponent(key)}`;
}

/** One of the caller's tokens by id or token string, else by name. */
async function findToken(api: ApiClient, key: string): Promise<ApiTokenView> {
  try {
    return await api.json<ApiTokenView>('GET', tokenPath(key));
  } catch (error) {
    if (!(error instanceof RemoteError) || error.status !== 404) throw error;
    const page = await api.json<{ data: ApiTokenView[] }>('GET', '/v3/tokens');
    const named = page.data.find((token) => token.name === key);
    if (!named) throw new RemoteError(`no token with the id or name '${key}'`, 404);
    return named;
  }
}

function printToken(token: ApiTokenView): void {
  const grants = token.grants.map((grant) => `${grant.connection_name}:${grant.source}`);
  const lines = [
    `id:         ${token.id}`,
    `name:       ${token.name}`,
    `apis:       ${token.allowed_apis.join(', ')}`,
    `grants:     ${grants.join('\n            ')}`,
    `referers:   ${token.referers.join(', ') || '(any page)'}`,
    `expires:    ${token.expiration_date ?? 'never'}`,
    `created:    ${token.created_at}`,
    `updated:    ${token.updated_at}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The body of a create or update: only the fields given. */
function tokenBody(options: CreateOptions): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: options.name,
    grants: options.grant,
    allowed_apis: options.api,
    referers: options.referer,
    expiration_date: options.expires,
  };
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
}

/** `graticule tokens`: API access tokens for web pages, through a running server's Tokens API. */
export function tokensCommand(): Command {
  const tokens = new Command('tokens')
    .description('manage API access tokens (narrow tokens for web pages; see docs/tokens.md)')
    .addHelpText(
      'after',
      `
The Tokens API takes OAuth access tokens only: use GRATICULE_CLIENT_ID and
GRATICULE_CLIENT_SECRET (or a user's token), not an API access token.

Examples:
  $ graticule tokens create --grant carto_dw:demo.countries --api maps \\
      --referer https://maps.example.com --expires 2030-12-31
  $ graticule tokens list --json
  $ graticule tokens list --all        # every token of the account (admins)
  $ graticule tokens delete tk_5bf6fb5510e93375 --all`,
    );

  addApiOptions(
    tokens
      .command('create')
      .description('create a token and print it once')
      .requiredOption(
        '--grant <connection:source>',
        'a source it may read: table, schema.*, * or SQL (repeatable)',
        collectGrant,
      )
      .option('--api <list>', 'APIs it may call: sql, maps, imports, lds', apiList, ['maps'])
      .option('--referer <origin>', 'web page origin or URL prefix allowed (repeatable)', collect)
      .option(
        '--expires <date>',
        'expiration, ISO 8601 (e.g. 2030-12-31T00:00:00Z)',
        expirationDate,
      )
      .option('--name <name>', 'name, unique among your tokens (default tk_ and the id)')
      .option('--json', 'print JSON'),
  )
    .addHelpText(
      'after',
      `
Example:
  $ graticule tokens create --grant 'carto_dw:demo.*' --api maps,sql --name world-map`,
    )
    .action(async (options: CreateOptions) => {
      const api = await ApiClient.fromOptions(options);
      const created = await api.json<ApiTokenView>('POST', '/v3/tokens', {
        json: tokenBody(options),
      });
      if (options.json) return printJson(created);
      process.stdout.write(
        `Token ${created.id} (${created.name}) created. It is shown this once:\n` +
          `${created.token}\n`,
      );
    });

  addApiOptions(
    tokens
      .command('list')
      .description('list the tokens you created (never the token strings)')
      .option('--all', 'every token of the account, with who created it (admins)')
      .option('--json', 'print JSON'),
  ).action(async (options: TokenOptions) => {
    const api = await ApiClient.fromOptions(options);
    if (options.all) {
      const all = await api.json<{ data: AccountTokenView[] }>('GET', '/v3/account/tokens');
      if (options.json) return printJson(all.data);
      const rows = all.data.map((token) => ({
        ...token,
        apis: token.allowed_apis.join(','),
        creator:
          token.creator_kind === 'public_map'
            ? '(public map)'
            : (token.creator_email ?? token.created_by),
        expires: token.expiration_date ?? 'never',
      }));
      return printTable(rows, ['id', 'name', 'apis', 'creator', 'expires']);
    }
    const page = await api.json<{ data: ApiTokenView[] }>('GET', '/v3/tokens');
    if (options.json) return printJson(page.data);
    const rows = page.data.map((token) => ({
      ...token,
      apis: token.allowed_apis.join(','),
      grants: token.grants.length,
      expires: token.expiration_date ?? 'never',
    }));
    printTable(rows, ['id', 'name', 'apis', 'grants', 'expires']);
  });

  addApiOptions(
    tokens
      .command('get <token>')
      .description('show one token, by id, name or token string')
      .option('--json', 'print JSON'),
  ).action(async (key: string, options: TokenOptions) => {
    const api = await ApiClient.fromOptions(options);
    const token = await findToken(api, key);
    if (options.json) return printJson(token);
    printToken(token);
  });

  addApiOptions(
    tokens
      .command('update <token>')
      .description("change a token's name, grants, APIs or referers (each replaces the list)")
      .option('--grant <connection:source>', 'a source it may read (repeatable)', collectGrant)
      .option('--api <list>', 'APIs it may call: sql, maps, imports, lds', apiList)
      .option('--referer <origin>', 'web page origin or URL prefix allowed (repeatable)', collect)
      .option('--name <name>', 'new name')
      .option('--json', 'print JSON'),
  ).action(async (key: string, options: ChangeOptions) => {
    const api = await ApiClient.fromOptions(options);
    const { id } = await findToken(api, key);
    const token = await api.json<ApiTokenView>('PATCH', tokenPath(id), {
      json: tokenBody(options),
    });
    if (options.json) return printJson(token);
    process.stdout.write(`Token ${token.id} (${token.name}) updated.\n`);
  });

  addApiOptions(
    tokens
      .command('delete <token>')
      .description('revoke a token, by id, name or token string; it stops working at once')
      .option('--all', 'any token of the account by id or name, whoever created it (admins)')
      .option('--json', 'print JSON'),
  ).action(async (key: string, options: TokenOptions) => {
    const api = await ApiClient.fromOptions(options);
    if (options.all) {
      const token = await findAccountToken(api, key);
      await api.request('DELETE', `/v3/account/tokens/${encodeURIComponent(token.id)}`);
      if (options.json) return printJson({ id: token.id, name: token.name, deleted: true });
      process.stdout.write(`Token ${token.id} (${token.name}) deleted.\n`);
      return;
    }
    // Looked up first, so the answer names the token by id even when given its string.
    const token = await findToken(api, key);
    await api.request('DELETE', tokenPath(token.id));
    if (options.json) return printJson({ id: token.id, name: token.name, deleted: true });
    process.stdout.write(`Token ${token.id} (${token.name}) deleted.\n`);
  });

  return tokens;
}
