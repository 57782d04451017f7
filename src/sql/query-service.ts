import { errors } from '../http/errors.js';
import type { CartoFieldType, WarehouseDriver } from '../warehouses/driver.js';
import {
  analyzeSql,
  isRowQuery,
  wrapAsSubquery,
  type SqlShape,
} from '../warehouses/postgres-sql-text.js';

export interface QueryLimits {
  maxRows: number;
  timeoutMs: number;
}

/** The SQL API's answer, as `@carto/api-client`'s `QueryResult` types it. */
export interface SqlQueryResponse {
  rows: Record<string, unknown>[];
  schema: { name: string; type: CartoFieldType }[];
  meta: { cacheHit: boolean; location: string; totalBytesProcessed: string; rowCount: number };
}

/** The shape of `q`, which must hold exactly one statement; 400 naming `q` otherwise. */
export function readSingleStatement(q: string, whenSeveral: string): SqlShape {
  const shape = analyzeSql(q);
  if (shape.body.trim() === '') throw errors.invalidParameter('q', 'the query is empty');
  if (shape.hasMultipleStatements) throw errors.invalidParameter('q', whenSeveral);
  return shape;
}

/**
 * Runs one statement of user SQL with bound parameters and the row limit. Row queries are
 * wrapped so the warehouse stops after the limit; other statements run as written.
 */
export async function runUserQuery(
  driver: WarehouseDriver,
  sqlText: string,
  params: readonly unknown[],
  limits: QueryLimits,
  signal?: AbortSignal,
): Promise<SqlQueryResponse> {
  const shape = readSingleStatement(sqlText, 'send one statement per request');
  const sql = isRowQuery(shape)
    ? `SELECT * FROM ${wrapAsSubquery(shape.body, '_q')} LIMIT ${limits.maxRows + 1}`
    : shape.body;

  const result = await driver.query({ sql, params, timeoutMs: limits.timeoutMs, signal });
  if (result.rows.length > limits.maxRows) throw errors.tooManyRows(limits.maxRows);
  const names = result.fields.map((field) => field.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) {
    // Rows are keyed by column name, so a second column of the same name would be lost.
    throw errors.invalidParameter('q', `column name '${duplicate}' appears twice; alias one`);
  }

  return {
    rows: result.rows,
    schema: result.fields.map((field) => ({ name: field.name, type: field.cartoType })),
    meta: {
      cacheHit: false,
      location: 'embedded',
      totalBytesProcessed: '0',
      rowCount: result.rows.length,
    },
  };
}
