/**
 * Every error the API can answer, declared once: a stable code, an HTTP status and a message.
 * Domain code throws `ApiError`s made by these factories; one Fastify error handler turns them
 * into CARTO's JSON error body `{error, status, code}`. Codes are never reused.
 */

export interface ApiErrorBody {
  error: string;
  status: number;
  code: string;
  hint?: string;
  column_name?: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { hint?: string; column_name?: string; retryAfterSeconds?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toBody(): ApiErrorBody {
    const body: ApiErrorBody = { error: this.message, status: this.status, code: this.code };
    if (this.extra.hint !== undefined) body.hint = this.extra.hint;
    if (this.extra.column_name !== undefined) body.column_name = this.extra.column_name;
    return body;
  }
}

type Extra = ApiError['extra'];

export const errors = {
  // request shape
  badRequest: (message: string, extra: Extra = {}) =>
    new ApiError(400, 'bad_request', message, extra),
  missingParameter: (name: string) =>
    new ApiError(400, 'missing_parameter', `Missing required parameter '${name}'`),
  invalidParameter: (name: string, reason: string) =>
    new ApiError(400, 'invalid_parameter', `Invalid parameter '${name}': ${reason}`),
  unsupportedParameter: (name: string, reason: string) =>
    new ApiError(400, 'unsupported_parameter', `Unsupported parameter '${name}': ${reason}`),
  malformedBody: (reason: string) =>
    new ApiError(400, 'malformed_body', `Malformed request body: ${reason}`),
  bodyTooLarge: (limitBytes: number) =>
    new ApiError(413, 'body_too_large', `Request body exceeds ${limitBytes} bytes`),
  unsupportedMediaType: (type: string) =>
    new ApiError(415, 'unsupported_media_type', `Unsupported Content-Type '${type}'`),
  routeNotFound: (method: string, url: string) =>
    new ApiError(404, 'route_not_found', `No route for ${method} ${url}`),
  consoleNotBuilt: () =>
    new ApiError(
      503,
      'console_not_built',
      'The web console was not built: run `npm run build` (or `npm ci`), then reload',
    ),

  // auth
  tokenMissing: () => new ApiError(401, 'token_missing', 'Token not defined'),
  tokenInvalid: (reason: string) => new ApiError(401, 'token_invalid', `Invalid token: ${reason}`),
  /** The caller is known but may not do this (role, token kind, grant, API or referer). */
  forbidden: (message: string) => new ApiError(403, 'forbidden', message),
  rateLimited: (retryAfterSeconds: number) =>
    new ApiError(429, 'rate_limited', 'Too many requests; retry later', { retryAfterSeconds }),

  // connections and sources
  connectionNotFound: (name: string) =>
    new ApiError(404, 'connection_not_found', `Connection '${name}' not found`),
  connectionExists: (name: string) =>
    new ApiError(409, 'connection_exists', `A connection named '${name}' already exists`),
  connectionManaged: (name: string) =>
    new ApiError(
      403,
      'connection_managed',
      `Connection '${name}' is the embedded warehouse; Graticule manages it`,
    ),
  tableNotFound: (name: string) =>
    new ApiError(404, 'table_not_found', `Table '${name}' not found`),
  columnNotFound: (name: string) =>
    new ApiError(400, 'column_not_found', 'Column not found', { column_name: name }),
  noGeometryColumn: (column: string) =>
    new ApiError(
      400,
      'geometry_column_not_found',
      `Spatial data column '${column}' not found or not a geometry`,
      { column_name: column },
    ),

  // warehouse
  /** The warehouse rejected the SQL; its own message is what users see. */
  sqlError: (message: string, cause: unknown) =>
    new ApiError(400, 'sql_error', message, {}, { cause }),
  sqlPermission: (message: string, cause: unknown) =>
    new ApiError(403, 'sql_permission', message, {}, { cause }),
  /** A 4xx: the same statement would time out again; it needs to be cheaper, or a job. */
  queryTimeout: (timeoutMs: number) =>
    new ApiError(400, 'query_timeout', `Query timed out after ${timeoutMs} ms`, {
      hint: 'Make the query cheaper or run it as a job',
    }),
  tooManyRows: (maxRows: number) =>
    new ApiError(400, 'too_many_rows', `Result exceeds the limit of ${maxRows} rows`, {
      hint: 'Add a LIMIT, or aggregate in SQL',
    }),
  warehouseBusy: (retryAfterSeconds: number) =>
    new ApiError(503, 'warehouse_busy', 'The warehouse is busy; retry shortly', {
      retryAfterSeconds,
    }),
  warehouseUnavailable: (reason: string) =>
    new ApiError(503, 'warehouse_unavailable', `The warehouse is unavailable: ${reason}`, {
      retryAfterSeconds: 5,
    }),

  /** The connection's server could not be reached; the message names host and port. */
  warehouseUnreachable: (message: string, cause: unknown) =>
    new ApiError(502, 'warehouse_unreachable', message, { retryAfterSeconds: 5 }, { cause }),
  warehouseAuthFailed: (message: string, cause: unknown) =>
    new ApiError(502, 'warehouse_auth_failed', message, {}, { cause }),

  // async SQL jobs
  jobNotFound: (id: string) => new ApiError(404, 'job_not_found', `Job '${id}' not found`),
  /** CARTO's job APIs answer 400 when asked to cancel a job that has ended. */
  jobAlreadyFinished: (id: string, status: string) =>
    new ApiError(400, 'job_already_finished', `Job '${id}' has already finished (${status})`),
  /** Recorded as a job's error, never answered: the node running the job stopped. */
  jobInterrupted: () =>
    new ApiError(
      500,
      'job_interrupted',
      'The server stopped while the job was running; it was not run again',
      { hint: 'Check whether the statement took effect, then create a new job if needed' },
    ),

  // tiles
  invalidTileCoordinates: (reason: string) =>
    new ApiError(400, 'invalid_tile', `Invalid tile coordinates: ${reason}`),

  internal: () => new ApiError(500, 'internal_error', 'Internal server error'),
} as const;
