import type { ImportRecord } from './import-records.js';

/** What a column's values turned out to be, from narrowest to widest. */
export type ColumnKind =
  'empty' | 'boolean' | 'integer' | 'bigint' | 'double' | 'date' | 'timestamp' | 'text' | 'jsonb';

/** The PostgreSQL type of each kind; a column with no values at all is text. */
export const SQL_TYPES: Record<ColumnKind, string> = {
  empty: 'text',
  boolean: 'boolean',
  integer: 'integer',
  bigint: 'bigint',
  double: 'double precision',
  date: 'date',
  timestamp: 'timestamptz',
  text: 'text',
  jsonb: 'jsonb',
};

/** PostgreSQL's longest identifier, in bytes. */
const MAX_IDENTIFIER_BYTES = 63;
/** PostgreSQL's most columns in a table, less the geometry column. */
export const MAX_COLUMNS = 1599;
export const GEOMETRY_COLUMN = 'geom';

const INT4_MAX = 2_147_483_647;
const INT8_MAX = 9_223_372_036_854_775_807n;
/** Integers without leading zeros: `007` and ZIP codes stay text. */
const INTEGER_TEXT = /^[+-]?(0|[1-9]\d*)$/;
const DECIMAL_TEXT = /^[+-]?(0|[1-9]\d*)?(\.\d+)?([eE][+-]?\d+)?$/;
const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP_TEXT =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;

function integerKind(text: string): ColumnKind {
  const value = BigInt(text);
  const magnitude = value < 0n ? -value : value;
  if (magnitude <= BigInt(INT4_MAX)) return 'integer';
  return magnitude <= INT8_MAX ? 'bigint' : 'text';
}

function timeKind(text: string): ColumnKind | undefined {
  if (Number.isNaN(Date.parse(text))) return undefined;
  if (DATE_TEXT.test(text)) return 'date';
  return TIMESTAMP_TEXT.test(text) ? 'timestamp' : undefined;
}

/** The kind of one CSV value (always text), or undefined for an empty (null) one. */
function kindOfText(text: string): ColumnKind | undefined {
  if (text === '') return undefined;
  if (/^(true|false)$/i.test(text)) return 'boolean';
  if (INTEGER_TEXT.test(text)) return integerKind(text);
  if (DECIMAL_TEXT.test(text) && /\d/.test(text)) return 'double';
  return timeKind(text) ?? 'text';
}

/** The kind of one JSON value, or undefined for null. */
function kindOfJson(value: unknown): ColumnKind | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return 'double';
    if (Math.abs(value) <= INT4_MAX) return 'integer';
    return Number.isSafeInteger(value) ? 'bigint' : 'double';
  }
  if (typeof value === 'string') return timeKind(value) ?? 'text';
  return 'jsonb';
}

const NUMERIC: readonly ColumnKind[] = ['integer', 'bigint', 'double'];
const TEMPORAL: readonly ColumnKind[] = ['date', 'timestamp'];

/** The narrowest kind holding values of both kinds. */
export function widenKind(a: ColumnKind, b: ColumnKind): ColumnKind {
  if (a === 'empty' || a === b) return b;
  if (b === 'empty') return a;
  if (a === 'jsonb' || b === 'jsonb') return 'jsonb';
  if (NUMERIC.includes(a) && NUMERIC.includes(b)) {
    return NUMERIC[Math.max(NUMERIC.indexOf(a), NUMERIC.indexOf(b))]!;
  }
  if (TEMPORAL.includes(a) && TEMPORAL.includes(b)) return 'timestamp';
  return 'text';
}

/** A key of the file made a PostgreSQL column name: lower case, letters, digits and `_`. */
function columnNameOf(key: string): string {
  let name = key
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (name === '') name = 'column';
  if (/^\d/.test(name)) name = `_${name}`;
  return name.slice(0, MAX_IDENTIFIER_BYTES - 4);
}

export interface ImportColumn {
  /** The property or header name in the file. */
  key: string;
  /** The column name in the table. */
  name: string;
  kind: ColumnKind;
}

/**
 * The columns of the table being imported: every key seen in the file, in first-seen order,
 * with the narrowest kind that holds all of its values.
 */
export class ColumnSet {
  private readonly byKey = new Map<string, ImportColumn>();
  private readonly names = new Set<string>([GEOMETRY_COLUMN]);

  get columns(): ImportColumn[] {
    return [...this.byKey.values()];
  }

  /** Widens the columns by one record; answers a problem instead when there are too many. */
  observe(record: ImportRecord): string | undefined {
    for (const [key, value] of record.properties) {
      let column = this.byKey.get(key);
      if (!column) {
        if (this.byKey.size >= MAX_COLUMNS) return `more than ${MAX_COLUMNS} columns`;
        column = { key, name: this.uniqueName(columnNameOf(key)), kind: 'empty' };
        this.byKey.set(key, column);
      }
      const kind = record.isText ? kindOfText(String(value ?? '')) : kindOfJson(value);
      if (kind !== undefined) column.kind = widenKind(column.kind, kind);
    }
    return undefined;
  }

  private uniqueName(base: string): string {
    let name = base;
    for (let n = 1; this.names.has(name); n += 1) name = `${base}_${n}`;
    this.names.add(name);
    return name;
  }
}

/** A value as bound to a column of `kind` (cast in SQL from text or JSON). */
export function bindValue(kind: ColumnKind, value: unknown, isText: boolean): unknown {
  if (value === null || value === undefined) return null;
  // CSV has no null but the empty field; JSON's empty strings stay in text columns.
  if (value === '' && (isText || kind !== 'text')) return null;
  switch (kind) {
    case 'jsonb':
      return JSON.stringify(value);
    case 'boolean':
      return isText ? /^true$/i.test(String(value)) : value;
    case 'text':
    case 'empty':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    default:
      return value;
  }
}
