/**
 * The columns of a widget's source, learned from the warehouse, and how each may be used.
 * Every column a request names is checked here, so a missing one answers CARTO's
 * "Column not found" (which the clients turn into their invalid-column error) rather than a
 * warehouse error, and only known names ever reach SQL, always quoted.
 */
import { errors } from '../http/errors.js';
import type { TimeKind } from '../sql-builder/dialect.js';
import { identifier, sql, type Sql } from '../sql-builder/sql.js';
import type { WarehouseField } from '../warehouses/driver.js';

const FLOAT_TYPES = new Set(['float4', 'float8', 'numeric', 'real', 'double precision', 'decimal']);
const TIME_TYPES: Record<string, TimeKind> = {
  timestamptz: 'timestamptz',
  'timestamp with time zone': 'timestamptz',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  date: 'date',
};

export class SourceColumns {
  private readonly byName: Map<string, WarehouseField>;

  constructor(readonly fields: readonly WarehouseField[]) {
    this.byName = new Map(fields.map((field) => [field.name, field]));
  }

  /** The field of a column the request names; 400 "Column not found" when there is none. */
  field(name: unknown, parameter = 'column'): WarehouseField {
    if (typeof name !== 'string' || name === '') {
      throw errors.invalidParameter(parameter, 'expected a column name');
    }
    const field = this.byName.get(name);
    if (!field) throw errors.columnNotFound(name);
    return field;
  }

  /** The quoted reference to a column the request names. */
  ref(name: unknown, parameter = 'column'): Sql {
    return identifier(this.field(name, parameter).name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }
}

export function isNumeric(field: WarehouseField): boolean {
  return field.cartoType === 'number' || field.cartoType === 'bigint';
}

/** Floating types can hold NaN and ±Infinity, which aggregates must skip. */
export function isFloating(field: WarehouseField): boolean {
  return FLOAT_TYPES.has(field.nativeType);
}

/** How a column holds time; numbers are read as milliseconds since 1970, as the clients do. */
export function timeKindOf(field: WarehouseField): TimeKind | null {
  const kind = TIME_TYPES[field.nativeType];
  if (kind) return kind;
  return isNumeric(field) ? 'epoch_ms' : null;
}

/** A numeric column's value, with non-finite values read as NULL. */
export function finiteValue(
  field: WarehouseField,
  finite: (expr: Sql) => Sql,
  ref: Sql = identifier(field.name),
): Sql {
  return isFloating(field) ? finite(ref) : sql`${ref}`;
}
