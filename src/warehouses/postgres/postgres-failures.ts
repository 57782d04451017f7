/**
 * Turns what pg throws into `WarehouseError`s. Server errors are classified by SQLSTATE; errors
 * without one by the phase they happened in (connecting, or running a statement) and the
 * system error code. Messages name the server as `host:port` and never carry credentials:
 * they are built here from codes, or are the server's own text, which holds no password.
 */

import pg from 'pg';
import { WarehouseError, type WarehouseErrorKind } from '../driver.js';
import { errorKindOfSqlState, warehouseErrorFromPostgres } from '../postgres-errors.js';

/** Why a socket could not reach the server, by Node's system error code. */
const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server',
  ENOENT: 'no server socket at that path',
};

/**
 * SQLSTATEs that mean the session or server went away rather than the statement being wrong:
 * admin_shutdown, crash_shutdown, cannot_connect_now, and class 08 (connection exception)
 * except protocol_violation, which the shared mapping reads as bad parameters.
 */
function isConnectionSqlState(sqlState: string): boolean {
  if (['57P01', '57P02', '57P03', '53300'].includes(sqlState)) return true;
  return sqlState.startsWith('08') && sqlState !== '08P01';
}

function systemCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for errors the server sent (an ErrorResponse with a SQLSTATE). */
export function isServerError(error: unknown): error is pg.DatabaseError {
  return error instanceof pg.DatabaseError && typeof error.code === 'string';
}

/** True when the error means the session can no longer be used. */
export function isSessionLost(error: unknown): boolean {
  if (isServerError(error)) return isConnectionSqlState(error.code ?? '');
  return systemCodeOf(error) !== undefined && systemCodeOf(error)! in NETWORK_REASONS;
}

function serverErrorOf(error: pg.DatabaseError): WarehouseError {
  return warehouseErrorFromPostgres({
    code: error.code,
    message: error.message,
    hint: error.hint,
    detail: error.detail,
    position: error.position,
  });
}

/** A failure while opening a session with the server at `endpoint`. */
export function connectFailure(
  error: unknown,
  endpoint: string,
  timing: { elapsedMs: number; connectTimeoutMs: number },
): WarehouseError {
  if (error instanceof WarehouseError) return error;
  if (isServerError(error)) return serverConnectFailure(error, endpoint);

  const code = systemCodeOf(error);
  const timedOut = code === undefined && timing.elapsedMs >= timing.connectTimeoutMs;
  const reason = timedOut
    ? `no answer within ${timing.connectTimeoutMs} ms`
    : (NETWORK_REASONS[code ?? ''] ?? (code ? `failed (${code})` : 'failed'));
  return new WarehouseError(
    'unreachable',
    `Could not connect to ${endpoint}: ${reason}`,
    undefined,
    {
      cause: error,
    },
  );
}

function serverConnectFailure(error: pg.DatabaseError, endpoint: string): WarehouseError {
  const sqlState = error.code;
  let kind: WarehouseErrorKind = errorKindOfSqlState(sqlState);
  // invalid_authorization_specification (28000) and invalid_password (28P01) alike.
  if (sqlState?.startsWith('28')) kind = 'auth_failed';
  // A database that is not there is the connection's setting, not the statement's fault.
  else if (sqlState === '3D000') kind = 'unreachable';
  else if (sqlState && isConnectionSqlState(sqlState)) kind = 'unavailable';
  const message = `${error.message} (server ${endpoint})`;
  return new WarehouseError(kind, message, sqlState, { cause: error });
}

/**
 * A failure while a statement ran. `sessionLost` tells that the session ended under the
 * statement (pg reports that without a SQLSTATE), which makes it `unavailable`.
 */
export function statementFailure(
  error: unknown,
  endpoint: string,
  sessionLost: boolean,
): WarehouseError {
  if (error instanceof WarehouseError) return error;
  if (isServerError(error)) {
    if (!isConnectionSqlState(error.code ?? '')) return serverErrorOf(error);
    return new WarehouseError(
      'unavailable',
      `The server at ${endpoint} ended the session: ${error.message}`,
      error.code,
      { cause: error },
    );
  }
  if (sessionLost || isSessionLost(error)) {
    const reason = NETWORK_REASONS[systemCodeOf(error) ?? ''] ?? 'connection lost';
    return new WarehouseError(
      'unavailable',
      `The connection to ${endpoint} broke during the statement: ${reason}`,
      undefined,
      { cause: error },
    );
  }
  return new WarehouseError('internal', 'The statement failed inside the driver', undefined, {
    cause: error,
  });
}

/** An error reduced to fields safe to log: class, codes and the message pg or node wrote. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const { code, kind, sqlState } = error as Error & Record<string, unknown>;
  return { type: error.name, message: error.message, code, kind, sqlState };
}
