/**
 * Worker-side guard of the one PGlite session that every API user shares: statements run as
 * the unprivileged API role, which they cannot leave, and each leaves nothing behind.
 *
 * PGlite runs PostgreSQL in single-user mode, where the authenticated user is always the
 * bootstrap superuser: its `username` option only issues `SET ROLE`, which any statement can
 * undo, and `SET SESSION AUTHORIZATION postgres` is always allowed. So the session is put in
 * the state PostgreSQL uses while running a SECURITY DEFINER function: current user = the API
 * role, with the SECURITY_LOCAL_USERID_CHANGE flag, under which PostgreSQL refuses any change
 * of `role` or `session_authorization` (SQL, `set_config` or PL/pgSQL alike). Transaction
 * aborts restore the user and flags saved at transaction start, i.e. these, so they persist.
 */

import type { PGlite } from '@electric-sql/pglite';
import {
  API_ROLE,
  CREATE_API_ROLE,
  GRANT_CREATE_IN_PUBLIC,
  PLAN_OWNERSHIP_TRANSFER,
  RESET_SESSION,
  SELECT_API_ROLE,
  SELECT_CURRENT_USER,
  TRY_BECOME_SUPERUSER,
  grantCreateSchemasStatement,
} from './api-role.sql.js';

/** `SECURITY_LOCAL_USERID_CHANGE` in PostgreSQL's `miscadmin.h`. */
const SECURITY_LOCAL_USERID_CHANGE = 1;
const INSUFFICIENT_PRIVILEGE = '42501';

/** PostgreSQL's C function, exported by PGlite's WASM module for extensions to link against. */
interface UserIdExports {
  _SetUserIdAndSecContext?: (userId: number, securityContext: number) => void;
}

interface ApiRoleState {
  oid: number;
  canCreateSchemas: boolean;
  canCreateInPublic: boolean;
  database: string;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Creates the API role and its grants when missing and hands it what an older version created
 * as the superuser. On an up-to-date data directory this only reads the catalog.
 */
async function prepareApiRole(db: PGlite): Promise<number | undefined> {
  const readState = async () => (await db.query<ApiRoleState>(SELECT_API_ROLE)).rows[0];
  let state = await readState();
  if (!state) await db.exec(CREATE_API_ROLE);
  state ??= await readState();
  if (state && !(state.canCreateSchemas && state.canCreateInPublic)) {
    await db.exec(grantCreateSchemasStatement(quoteIdentifier(state.database)));
    await db.exec(GRANT_CREATE_IN_PUBLIC);
  }

  const { rows: transfers } = await db.query<{ statement: string }>(PLAN_OWNERSHIP_TRANSFER);
  for (const { statement } of transfers) await db.exec(statement);
  return state?.oid;
}

/**
 * Prepares the API role as the superuser, then locks the session to it. Fails rather than
 * serve statements as the superuser when the lock cannot be verified.
 */
export async function lockSessionToApiRole(db: PGlite): Promise<void> {
  const roleOid = await prepareApiRole(db);
  const setUserId = (db.Module as unknown as UserIdExports)._SetUserIdAndSecContext;
  if (roleOid === undefined || typeof setUserId !== 'function') {
    throw new Error('This PGlite build cannot restrict statements to an unprivileged role');
  }

  setUserId(roleOid, SECURITY_LOCAL_USERID_CHANGE);

  const { rows: current } = await db.query<{ name: string }>(SELECT_CURRENT_USER);
  if (current[0]?.name !== API_ROLE || (await canBecomeSuperuser(db))) {
    throw new Error(`Statements could not be restricted to role '${API_ROLE}'`);
  }
}

async function canBecomeSuperuser(db: PGlite): Promise<boolean> {
  try {
    await db.query(TRY_BECOME_SUPERUSER);
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === INSUFFICIENT_PRIVILEGE) return false;
    throw error;
  }
}

const QUERY_MESSAGE = 0x51; // 'Q'
const ERROR_RESPONSE = 0x45; // 'E'

/**
 * A simple-protocol Query message
 * (https://www.postgresql.org/docs/current/protocol-message-formats.html).
 */
function simpleQueryMessage(sql: string): Uint8Array {
  const text = new TextEncoder().encode(`${sql}\0`);
  const message = new Uint8Array(5 + text.length);
  message[0] = QUERY_MESSAGE;
  new DataView(message.buffer).setInt32(1, 4 + text.length);
  message.set(text, 5);
  return message;
}

/** True when the backend's reply holds an ErrorResponse, or cannot be read. */
function hasErrorResponse(reply: Uint8Array): boolean {
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  let offset = 0;
  while (offset + 5 <= reply.length) {
    const length = view.getInt32(offset + 1);
    if (reply[offset] === ERROR_RESPONSE || length < 4) return true;
    offset += 1 + length;
  }
  return offset !== reply.length;
}

const RESET_SESSION_MESSAGE = simpleQueryMessage(RESET_SESSION);

/**
 * Undoes what a statement may have left in the shared session: settings (`search_path`,
 * `SET app.x`), temporary tables, prepared statements, cursors, advisory locks, LISTENs.
 * Sent as raw protocol without the file-system sync: about 0.08 ms instead of 0.3 ms through
 * `exec`, on every statement. It changes nothing durable, so there is nothing to sync.
 */
export async function resetSession(db: PGlite): Promise<void> {
  const reply = await db.execProtocolRaw(RESET_SESSION_MESSAGE, { syncToFs: false });
  if (hasErrorResponse(reply)) throw new Error('Could not reset the embedded warehouse session');
}
