import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { CliError } from './cli-context.js';

/** What the token endpoint is asked for: tokens for the CARTO 3 API. */
const AUDIENCE = 'carto-cloud-native-api';

/**
 * A failure of a call to a Graticule server: the API's own `error` message with the HTTP
 * status, or why the server could not be reached. Printed as `graticule: <message>`.
 */
export class RemoteError extends CliError {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(status === undefined ? message : `${message} (HTTP ${status})`);
  }
}

/** The `--url` and `--token` options of a command that talks to a running server. */
export interface ApiOptions {
  url?: string;
  token?: string;
}

type Credentials =
  | { kind: 'token'; token: string }
  | { kind: 'client'; clientId: string; clientSecret: string }
  | { kind: 'none' };

export interface ApiRequest {
  /** Query string parameters; undefined values are left out. */
  query?: Record<string, string | undefined>;
  /** Sent as a JSON body. */
  json?: unknown;
  accept?: string;
  signal?: AbortSignal;
}

/** Adds `--url` and `--token` to a command that calls the API of a running server. */
export function addApiOptions(command: Command): Command {
  return command
    .option(
      '--url <url>',
      'server to call (default: GRATICULE_URL, else GRATICULE_PUBLIC_URL, else http://HOST:PORT)',
    )
    .option(
      '--token <token>',
      'access token (default: GRATICULE_TOKEN, else a token for GRATICULE_CLIENT_ID and ' +
        'GRATICULE_CLIENT_SECRET)',
    );
}

/** The address of a server listening on `host`: wildcard addresses are reached on loopback. */
function listeningUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/**
 * The server's base URL: `--url`, `GRATICULE_URL`, then the server's own configuration (its
 * public URL, else the address it listens on), so a CLI next to the server finds it.
 */
export async function resolveBaseUrl(option?: string): Promise<string> {
  let text = option ?? process.env.GRATICULE_URL;
  if (!text) {
    // Loaded only here: most calls name the server, and the module takes a while to load.
    const { loadConfig } = await import('../config/config.js');
    const config = loadConfig();
    text = config.publicUrl || listeningUrl(config.host, config.port);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`'${text}' is not a URL; give --url as http(s)://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`'${text}' is not an http(s) URL`);
  }
  return url.href.replace(/\/+$/, '');
}

function resolveCredentials(option?: string): Credentials {
  const token = option ?? process.env.GRATICULE_TOKEN;
  if (token) return { kind: 'token', token };
  const clientId = process.env.GRATICULE_CLIENT_ID;
  const clientSecret = process.env.GRATICULE_CLIENT_SECRET;
  if (clientId && clientSecret) return { kind: 'client', clientId, clientSecret };
  if (clientId || clientSecret) {
    const missing = clientId ? 'GRATICULE_CLIENT_SECRET' : 'GRATICULE_CLIENT_ID';
    throw new CliError(`${missing} is not set: client credentials need both the id and secret`);
  }
  return { kind: 'none' };
}

interface NetworkCause {
  code?: string;
  message?: string;
  errors?: { code?: string }[];
}

/** The code of a failed connection (fetch wraps it, several when a host has two addresses). */
function networkCodeOf(error: unknown): string | undefined {
  const cause = (error as { cause?: NetworkCause }).cause;
  return cause?.code ?? cause?.errors?.[0]?.code;
}

function networkProblemOf(error: unknown): string {
  const cause = (error as { cause?: NetworkCause }).cause;
  return networkCodeOf(error) ?? cause?.message ?? (error as Error).message ?? 'network error';
}

/** The message of an error answer: CARTO's `error`, or OAuth's `error_description`. */
async function errorMessageOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    if (typeof body.error_description === 'string' && body.error_description !== '') {
      return body.error_description;
    }
    if (typeof body.error === 'string' && body.error !== '') return body.error;
  } catch {
    // Not JSON: a proxy's page, say. Its first line is better than nothing.
  }
  const firstLine = text.trim().split('\n')[0]?.slice(0, 200);
  return firstLine || response.statusText || 'request failed';
}

/**
 * A client of a running Graticule server's API, authenticated by an access token or by client
 * credentials exchanged at `/oauth/token`. Credentials are never printed.
 */
export class ApiClient {
  private accessToken?: Promise<string>;

  private constructor(
    readonly baseUrl: string,
    private readonly credentials: Credentials,
  ) {}

  /** The client for a command's `--url` and `--token` (or their environment variables). */
  static async fromOptions(options: ApiOptions): Promise<ApiClient> {
    return new ApiClient(await resolveBaseUrl(options.url), resolveCredentials(options.token));
  }

  /** Sends a request and answers the response, throwing `RemoteError` for error statuses. */
  async request(method: string, path: string, request: ApiRequest = {}): Promise<Response> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const headers: Record<string, string> = {
      Authorization: `Bearer ${await this.token()}`,
      Accept: request.accept ?? 'application/json',
    };
    let body: string | undefined;
    if (request.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(request.json);
    }
    const response = await this.send(url, { method, headers, body, signal: request.signal });
    if (!response.ok) throw new RemoteError(await errorMessageOf(response), response.status);
    return response;
  }

  /** Sends a request and answers its JSON body (undefined for `204 No Content`). */
  async json<T>(method: string, path: string, request: ApiRequest = {}): Promise<T> {
    const response = await this.request(method, path, request);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /** A response body as a Node stream, for piping it out with flat memory. */
  static bodyStream(response: Response): Readable {
    if (!response.body) return Readable.from([]);
    return Readable.fromWeb(response.body as ReadableStream);
  }

  private async send(url: URL, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      const code = networkCodeOf(error);
      if (code === 'ECONNREFUSED') {
        throw new RemoteError(
          `no Graticule server is running at ${this.baseUrl}: start one with 'graticule serve' ` +
            '(or npm start), or point --url or GRATICULE_URL at a running one',
        );
      }
      throw new RemoteError(`cannot reach ${this.baseUrl}: ${networkProblemOf(error)}`);
    }
  }

  private token(): Promise<string> {
    const credentials = this.credentials;
    if (credentials.kind === 'token') return Promise.resolve(credentials.token);
    if (credentials.kind === 'none') {
      return Promise.reject(
        new RemoteError(
          'no credentials: set GRATICULE_TOKEN (or --token), or GRATICULE_CLIENT_ID and ' +
            'GRATICULE_CLIENT_SECRET (shown by graticule init or on the first start)',
        ),
      );
    }
    this.accessToken ??= this.exchangeClientCredentials(credentials);
    return this.accessToken;
  }

  private async exchangeClientCredentials(credentials: {
    clientId: string;
    clientSecret: string;
  }): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
      audience: AUDIENCE,
    });
    const response = await this.send(new URL(`${this.baseUrl}/oauth/token`), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: form,
    });
    if (!response.ok) {
      const message = await errorMessageOf(response);
      throw new RemoteError(
        `the token endpoint refused GRATICULE_CLIENT_ID and GRATICULE_CLIENT_SECRET: ${message}`,
        response.status,
      );
    }
    const body = (await response.json()) as { access_token?: unknown };
    if (typeof body.access_token !== 'string') {
      throw new RemoteError('the token endpoint answered no access_token');
    }
    return body.access_token;
  }
}
