/** The aggregations widgets apply: `count`, `avg`, `min`, `max`, `sum` and `custom`. */
import { errors } from '../http/errors.js';
import type { Dialect } from '../sql-builder/dialect.js';
import { sql, type Sql } from '../sql-builder/sql.js';
import { finiteValue, isNumeric, timeKindOf, type SourceColumns } from './columns.js';
import { checkedExpression } from './expression.js';

export const OPERATIONS = ['count', 'avg', 'min', 'max', 'sum', 'custom'] as const;
export type Operation = (typeof OPERATIONS)[number];

export function readOperation(
  raw: unknown,
  name = 'operation',
  fallback: Operation = 'count',
): Operation {
  if (raw === undefined || raw === null || raw === '') return fallback;
  if (typeof raw !== 'string' || !(OPERATIONS as readonly string[]).includes(raw)) {
    throw errors.invalidParameter(name, `expected one of ${OPERATIONS.join(', ')}`);
  }
  return raw as Operation;
}

export interface AggregationContext {
  dialect: Dialect;
  columns: SourceColumns;
}

/**
 * The aggregate of `operation` over `column`; `count` counts rows. Sums and averages need a
 * number column; NaN and infinities are skipped, as they would poison the result.
 */
export function aggregate(
  ctx: AggregationContext,
  operation: Operation,
  column: unknown,
  operationExp?: unknown,
  parameter = 'column',
): Sql {
  if (operation === 'custom') return checkedExpression(operationExp, 'operationExp');
  const all = column === undefined || column === null || column === '' || column === '*';
  if (operation === 'count') {
    // Rows, NULLs included, as the clients count features when they compute widgets locally;
    // the column must still exist.
    if (!all) ctx.columns.field(column, parameter);
    return sql`COUNT(*)`;
  }
  if (all) throw errors.invalidParameter(parameter, `'${operation}' needs a column`);
  const field = ctx.columns.field(column, parameter);
  const numeric = isNumeric(field);
  if ((operation === 'sum' || operation === 'avg') && !numeric) {
    throw errors.invalidParameter(
      parameter,
      `'${field.name}' is not a number column; cannot ${operation} it`,
    );
  }
  if (!numeric && timeKindOf(field) === null && field.cartoType !== 'string') {
    throw errors.invalidParameter(
      parameter,
      `cannot ${operation} the ${field.nativeType} column '${field.name}'`,
    );
  }
  const subject = numeric
    ? finiteValue(field, (e) => ctx.dialect.finite(e))
    : ctx.columns.ref(column, parameter);
  switch (operation) {
    case 'avg':
      return sql`AVG(${subject})`;
    case 'sum':
      return sql`SUM(${subject})`;
    case 'min':
      return sql`MIN(${subject})`;
    case 'max':
      return sql`MAX(${subject})`;
  }
}
