/**
 * Worker-thread entry of the embedded warehouse: owns one PGlite instance (PostgreSQL + PostGIS
 * in WASM), whose every statement blocks its thread, so it must never run on the main thread.
 * Speaks the protocol in `worker-protocol.ts`.
 */

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { PGlite, type Results } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';
import type { WarehouseErrorKind, WarehouseField } from '../driver.js';
import type { PostgresErrorFields } from '../postgres-errors.js';
import { PG_TEXT_PARSERS, cartoTypeOf, type PgTypeInfo } from '../postgres-types.js';
import { lockSessionToApiRole, resetSession } from './api-role-session.js';
import { isBlankSql } from './blank-sql.js';
import { exceedsResultBudget, resultTooLargeMessage } from './result-size.js';
import type { HostMessage, WorkerMessage } from './worker-protocol.js';

// Result columns of a domain type are described with the domain's base type, so a type's own
// category is all the CARTO type needs.
const SELECT_ALL_TYPES = `
  SELECT oid::int4 AS oid, typname, typcategory
    FROM pg_catalog.pg_type`;

const SELECT_TYPES_BY_OID = `${SELECT_ALL_TYPES}
   WHERE oid = ANY($1::oid[])`;

const HAS_POSTGIS = `SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'postgis'`;

interface TypeRow extends PgTypeInfo {
  oid: number;
}

const port = parentPort;
if (!port) throw new Error('warehouse-worker.ts must be started as a worker thread');

let db: PGlite | undefined;
let maxResultBytes = Number.POSITIVE_INFINITY;
// Set when cleaning the session after a statement failed: what the next user would inherit is
// unknown, so the instance is not reused.
let hasDirtySession = false;
const fieldTypes = new Map<number, Omit<WarehouseField, 'name'>>();

function send(message: WorkerMessage): void {
  port?.postMessage(message);
}

function errorFields(error: unknown): PostgresErrorFields {
  if (!(error instanceof Error)) return { message: String(error) };
  const { code, hint, detail, position } = error as Error & Record<string, unknown>;
  const asText = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    code: asText(code),
    message: error.message,
    hint: asText(hint),
    detail: asText(detail),
    position: asText(position),
  };
}

/**
 * A WASM trap (`WebAssembly.RuntimeError`, named 'RuntimeError'; the type is not in this
 * project's libs) leaves PostgreSQL's memory in an unknown state, so the instance is not reused.
 */
function isFatal(error: unknown): boolean {
  const isWasmTrap = error instanceof Error && error.name === 'RuntimeError';
  return isWasmTrap || hasDirtySession || db === undefined || db.closed;
}

function rememberTypes(rows: TypeRow[]): boolean {
  let hasArrays = false;
  for (const row of rows) {
    fieldTypes.set(row.oid, { nativeType: row.typname, cartoType: cartoTypeOf(row) });
    hasArrays ||= row.typcategory === 'A';
  }
  return hasArrays;
}

async function describeFields(
  database: PGlite,
  fields: { name: string; dataTypeID: number }[],
): Promise<WarehouseField[]> {
  const unseen = [...new Set(fields.map((field) => field.dataTypeID))].filter(
    (oid) => !fieldTypes.has(oid),
  );
  if (unseen.length > 0) {
    const { rows } = await database.query<TypeRow>(SELECT_TYPES_BY_OID, [unseen]);
    // PGlite learns array types only at start-up; arrays of types created since then come
    // back as text until it refreshes.
    if (rememberTypes(rows)) await database.refreshArrayTypes();
  }

  return fields.map((field) => ({
    name: field.name,
    ...(fieldTypes.get(field.dataTypeID) ?? { nativeType: 'unknown', cartoType: 'unknown' }),
  }));
}

async function open(dataDir: string, resultBudgetBytes: number): Promise<void> {
  maxResultBytes = resultBudgetBytes;
  mkdirSync(dataDir, { recursive: true });
  const createdDataDir = !existsSync(join(dataDir, 'PG_VERSION'));

  const createStart = performance.now();
  const database = await PGlite.create({
    dataDir,
    extensions: { postgis },
    parsers: { ...PG_TEXT_PARSERS },
  });
  db = database;
  const createMs = performance.now() - createStart;

  const extensionStart = performance.now();
  const { rows: installed } = await database.query(HAS_POSTGIS);
  if (installed.length === 0) {
    await database.exec('CREATE EXTENSION IF NOT EXISTS postgis');
    // geometry[] and geography[] did not exist when PGlite loaded its array parsers.
    await database.refreshArrayTypes();
  }
  const extensionMs = performance.now() - extensionStart;

  const roleStart = performance.now();
  await lockSessionToApiRole(database);
  const roleMs = performance.now() - roleStart;

  rememberTypes((await database.query<TypeRow>(SELECT_ALL_TYPES)).rows);
  const { rows } = await database.query<{ version: string }>(
    'SELECT postgis_lib_version() AS version',
  );
  send({
    type: 'opened',
    createdDataDir,
    createMs,
    extensionMs,
    roleMs,
    postgisVersion: rows[0]?.version ?? 'unknown',
  });
}

/** Ends a transaction the statement left open and clears what it left in the session. */
async function cleanSession(database: PGlite): Promise<void> {
  try {
    if (database.isInTransaction()) await database.exec('ROLLBACK');
    await resetSession(database);
  } catch (error) {
    hasDirtySession = true;
    throw error;
  }
}

function sendWorkerError(id: number, kind: WarehouseErrorKind, message: string, fatal: boolean) {
  send({ type: 'error', id, kind, fatal, error: { message } });
}

async function runQuery(
  id: number,
  sql: string,
  params: readonly unknown[],
  readOnly: boolean,
): Promise<void> {
  if (!db) throw new Error('The embedded warehouse is not open');
  const database = db;
  let result: Results<Record<string, unknown>>;
  try {
    // The statement's own transaction starts read-only; the session reset below ends it.
    if (readOnly) await database.exec('SET default_transaction_read_only = on');
    result = await database.query<Record<string, unknown>>(sql, [...params]);
  } catch (error) {
    if (!isFatal(error)) await cleanSession(database).catch(() => undefined);
    throw error;
  }

  // PGlite swallows a JS exception escaping PostgreSQL's main loop (GEOS reports some
  // failures as C++ exceptions, which surface that way) and returns the rows sent so far with
  // neither a command tag nor an error. The statement's effects may be partly committed and
  // the backend's state is unknown, so the instance must not serve further statements. The
  // kind stays `internal`, which callers may retry once the worker has restarted.
  if (result.command === undefined && !isBlankSql(sql)) {
    const message =
      'The statement stopped inside the embedded warehouse without reporting an error ' +
      '(an exception in PostGIS or GEOS); its changes may be partly applied';
    sendWorkerError(id, 'internal', message, true);
    return;
  }

  // The whole server shares this one session: a transaction left open would swallow every
  // later statement of every user, so explicit transactions are refused.
  const leftTransactionOpen = database.isInTransaction();
  await cleanSession(database);
  if (leftTransactionOpen) {
    send({
      type: 'error',
      id,
      fatal: false,
      error: {
        code: '0A000',
        message:
          'Transactions are not supported by the embedded warehouse; each statement commits on its own',
      },
    });
    return;
  }

  // Checked before the rows are copied to the main thread, which would hold them twice more.
  if (exceedsResultBudget(result.rows, maxResultBytes)) {
    sendWorkerError(id, 'invalid_input', resultTooLargeMessage(maxResultBytes), false);
    return;
  }

  const fields = await describeFields(database, result.fields);
  send({ type: 'result', id, fields, rows: result.rows });
}

async function handle(message: HostMessage): Promise<void> {
  try {
    switch (message.type) {
      case 'open':
        await open(message.dataDir, message.maxResultBytes);
        return;
      case 'query':
        await runQuery(message.id, message.sql, message.params, message.readOnly === true);
        return;
      case 'close':
        await db?.close();
        db = undefined;
        send({ type: 'closed' });
        return;
    }
  } catch (error) {
    const id = message.type === 'query' ? message.id : undefined;
    send({ type: 'error', id, error: errorFields(error), fatal: isFatal(error) });
  }
}

// The host sends one message at a time, but chaining keeps the worker correct even if not.
let previous: Promise<void> = Promise.resolve();
port.on('message', (message: HostMessage) => {
  previous = previous.then(() => handle(message));
});
