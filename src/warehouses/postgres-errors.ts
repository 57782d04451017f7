/**
 * Classification of PostgreSQL errors into driver-independent `WarehouseError`s, by SQLSTATE
 * only (https://www.postgresql.org/docs/current/errcodes-appendix.html).
 */

import { WarehouseError, type WarehouseErrorKind } from './driver.js';

/** The fields of a PostgreSQL ErrorResponse that the API may show to users. */
export interface PostgresErrorFields {
  /** SQLSTATE; absent when the failure did not come from the server. */
  code?: string;
  message: string;
  hint?: string;
  detail?: string;
  /** 1-based character offset into the statement text, as PostgreSQL reports it. */
  position?: string;
}

/** A server error carried across a thread or process boundary, kept as a `WarehouseError` cause. */
export class PostgresServerError extends Error {
  override readonly name = 'PostgresServerError';
  readonly code: string | undefined;
  readonly hint: string | undefined;
  readonly detail: string | undefined;
  readonly position: string | undefined;

  constructor(fields: PostgresErrorFields) {
    super(fields.message);
    this.code = fields.code;
    this.hint = fields.hint;
    this.detail = fields.detail;
    this.position = fields.position;
  }
}

const UNDEFINED_OBJECT_STATES = new Set([
  '42P01', // undefined_table
  '42703', // undefined_column
  '42883', // undefined_function
  '42704', // undefined_object (types, extensions, ...)
  '3F000', // invalid_schema_name
  '26000', // invalid_sql_statement_name (EXECUTE or DEALLOCATE of an unknown name)
]);

/** The kind of failure a SQLSTATE stands for; unknown or missing codes are `internal`. */
export function errorKindOfSqlState(sqlState: string | undefined): WarehouseErrorKind {
  if (sqlState === undefined) return 'internal';
  if (UNDEFINED_OBJECT_STATES.has(sqlState)) return 'undefined_object';
  if (sqlState === '42501') return 'permission';
  if (sqlState === '57014') return 'cancelled';
  // A Bind with the wrong number of values: the caller's queryParameters do not fit the SQL.
  if (sqlState === '08P01') return 'invalid_input';
  // PostGIS and GEOS report problems with the user's geometries as internal_error, e.g.
  // "lwgeom_simplify_in_place: unsupported geometry type"; XX001/XX002 (corruption) stay internal.
  if (sqlState === 'XX000') return 'invalid_input';
  // A disk failure is the server's problem; the rest of class 58 is a file the statement named.
  if (sqlState === '58030') return 'internal';

  switch (sqlState.slice(0, 2)) {
    case '42':
      return 'syntax';
    case '22': // data_exception
    case '23': // integrity_constraint_violation
    case '0A': // feature_not_supported
    case '21': // cardinality_violation
    case '24': // invalid_cursor_state
    case '25': // invalid_transaction_state
    case '2B': // dependent_privilege_descriptors_still_exist
    case '2F': // sql_routine_exception
    case '34': // invalid_cursor_name
    case '38': // external_routine_exception
    case '39': // external_routine_invocation_exception
    case '44': // with_check_option_violation
    case '53': // insufficient_resources: the statement asked for more memory or disk than there is
    case '54': // program_limit_exceeded
    case '55': // object_not_in_prerequisite_state
    case '58': // system_error, e.g. undefined_file from pg_read_file
    case 'P0': // plpgsql_error, including RAISE EXCEPTION
      return 'invalid_input';
    default:
      return 'internal';
  }
}

/** Wraps a PostgreSQL error, keeping the server's message for the user and the fields as cause. */
export function warehouseErrorFromPostgres(fields: PostgresErrorFields): WarehouseError {
  return new WarehouseError(errorKindOfSqlState(fields.code), fields.message, fields.code, {
    cause: new PostgresServerError(fields),
  });
}
