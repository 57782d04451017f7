/**
 * CARTO's filter grammar (`filters` on Maps, Model and Stats calls) as SQL conditions. Each
 * operator matches what the clients compute locally for the same filter, so a widget counts
 * what a map shows: `in` (membership), `between` (both ends inclusive), `closed_open`
 * ([a, b)), `time` (epoch milliseconds, both ends inclusive) and `stringSearch`. A null end
 * of an interval is unbounded. Every value is bound, never written into the SQL.
 */
import { errors } from '../http/errors.js';
import { foldDiacriticsInText, type Dialect } from '../sql-builder/dialect.js';
import { allOf, anyOf, join, raw, sql, value, type Sql } from '../sql-builder/sql.js';
import type { WarehouseField } from '../warehouses/driver.js';
import { finiteValue, isNumeric, timeKindOf, type SourceColumns } from './columns.js';

export type LogicalOperator = 'and' | 'or';

const OPERATORS = ['in', 'between', 'closed_open', 'time', 'stringSearch'] as const;
type Operator = (typeof OPERATORS)[number];

/** Most values one filter may list; far above what a widget selects. */
export const MAX_FILTER_VALUES = 10_000;

interface FilterContext {
  dialect: Dialect;
  columns: SourceColumns;
}

function parameter(column: string, operator: string): string {
  return `filters.${column}.${operator}`;
}

function listOf(raw: unknown, name: string): unknown[] {
  const values = (raw as { values?: unknown } | null)?.values;
  if (!Array.isArray(values)) throw errors.invalidParameter(name, "expected 'values' to be a list");
  if (values.length > MAX_FILTER_VALUES) {
    throw errors.invalidParameter(name, `more than ${MAX_FILTER_VALUES} values`);
  }
  return values;
}

function isScalar(item: unknown): item is string | number | boolean | null {
  return (
    item === null ||
    typeof item === 'string' ||
    typeof item === 'boolean' ||
    (typeof item === 'number' && Number.isFinite(item))
  );
}

/** Integers an `int4` column can hold; other numbers are compared as decimals. */
const INT4_MAX = 2_147_483_647;

/**
 * A number bound for comparison with a number column: plain when any integer column can take
 * it, else as a decimal, so 5000.5 or 1e20 compare with an `int4` column instead of failing.
 */
function boundNumber(dialect: Dialect, number: number): Sql {
  if (Number.isInteger(number) && Math.abs(number) <= INT4_MAX) return value(number);
  return dialect.decimal(value(number));
}

function inCondition(
  dialect: Dialect,
  field: WarehouseField,
  ref: Sql,
  values: unknown[],
  name: string,
): Sql {
  if (!values.every(isScalar)) {
    throw errors.invalidParameter(name, 'values must be strings, numbers, booleans or null');
  }
  if (isNumeric(field) && values.some((v) => typeof v !== 'number' && v !== null)) {
    throw errors.invalidParameter(
      name,
      `'${field.name}' is a number column; values must be numbers`,
    );
  }
  const present = values.filter((v) => v !== null);
  const options: Sql[] = [];
  const bind = (v: unknown) =>
    typeof v === 'number' && isNumeric(field) ? boundNumber(dialect, v) : value(v);
  if (present.length > 0) options.push(sql`${ref} IN (${join(present.map(bind))})`);
  if (present.length < values.length) options.push(sql`${ref} IS NULL`);
  return anyOf(options) ?? raw('1 = 0');
}

type Bound = number | string | null;

function intervalsOf(values: unknown[], name: string, allowStrings: boolean): [Bound, Bound][] {
  return values.map((interval) => {
    if (!Array.isArray(interval) || interval.length !== 2) {
      throw errors.invalidParameter(name, 'each value must be an interval [from, to]');
    }
    for (const end of interval) {
      const ok =
        end === null ||
        (typeof end === 'number' && Number.isFinite(end)) ||
        (allowStrings && typeof end === 'string');
      if (!ok) {
        throw errors.invalidParameter(
          name,
          allowStrings
            ? 'interval ends must be numbers, strings or null'
            : 'interval ends must be numbers or null',
        );
      }
    }
    return interval as [Bound, Bound];
  });
}

function rangeCondition(
  ctx: FilterContext,
  field: WarehouseField,
  values: unknown[],
  operator: 'between' | 'closed_open' | 'time',
  name: string,
): Sql {
  const { dialect } = ctx;
  const timeKind = timeKindOf(field);
  let subject: Sql;
  let bound: (end: Bound) => Sql;
  if (operator === 'time') {
    if (!timeKind) throw errors.invalidParameter(name, `'${field.name}' does not hold time`);
    subject = dialect.instant(ctx.columns.ref(field.name), timeKind);
    bound = (end) => dialect.instantFromEpochMs(value(end));
  } else if (isNumeric(field)) {
    subject = finiteValue(field, (e) => dialect.finite(e));
    bound = (end) => boundNumber(dialect, end as number);
  } else if (timeKind) {
    // Range widgets over dates send epoch milliseconds.
    subject = dialect.instant(ctx.columns.ref(field.name), timeKind);
    bound = (end) =>
      typeof end === 'number' ? dialect.instantFromEpochMs(value(end)) : value(end);
  } else {
    subject = ctx.columns.ref(field.name);
    bound = (end) => value(end);
  }
  const allowStrings = operator !== 'time' && !isNumeric(field);
  const upper = operator === 'closed_open' ? '<' : '<=';
  const conditions = intervalsOf(values, name, allowStrings).map(([from, to]) => {
    const ends: Sql[] = [sql`${subject} IS NOT NULL`];
    if (from !== null) ends.push(sql`${subject} >= ${bound(from)}`);
    if (to !== null) ends.push(sql`${subject} ${raw(upper)} ${bound(to)}`);
    return allOf(ends)!;
  });
  return anyOf(conditions) ?? raw('1 = 0');
}

interface SearchOptions {
  useRegExp?: boolean;
  mustStart?: boolean;
  mustEnd?: boolean;
  caseSensitive?: boolean;
  keepSpecialCharacters?: boolean;
}

const REGEXP_SPECIAL = /[.*+?^${}()|[\]\\]/g;

/** Texts one `stringSearch` may hold: each is a branch of one regular expression. */
export const MAX_SEARCH_VALUES = 100;

const SEARCH_FLAGS = [
  'useRegExp',
  'mustStart',
  'mustEnd',
  'caseSensitive',
  'keepSpecialCharacters',
] as const;

/** The search flags, each a boolean (or its text, as a query string carries it). */
function searchOptions(given: Record<string, unknown>, name: string): SearchOptions {
  const options: SearchOptions = {};
  for (const flag of SEARCH_FLAGS) {
    const raw = given[flag];
    if (raw === undefined || raw === null) continue;
    if (raw !== true && raw !== false && raw !== 'true' && raw !== 'false') {
      throw errors.invalidParameter(`${name}.params.${flag}`, 'expected true or false');
    }
    options[flag] = raw === true || raw === 'true';
  }
  return options;
}

function searchCondition(
  ctx: FilterContext,
  field: WarehouseField,
  raw: unknown,
  name: string,
): Sql {
  const values = listOf(raw, name);
  if (!values.every((v) => typeof v === 'string' || typeof v === 'number')) {
    throw errors.invalidParameter(name, 'values must be strings');
  }
  if (values.length > MAX_SEARCH_VALUES) {
    throw errors.invalidParameter(name, `more than ${MAX_SEARCH_VALUES} search texts`);
  }
  const given = (raw as { params?: unknown }).params ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw errors.invalidParameter(name, "'params' must be an object");
  }
  const options = searchOptions(given as Record<string, unknown>, name);
  if (values.length === 0) return sql`1 = 0`;
  const fold = !options.keepSpecialCharacters;
  const patterns = values.map((v) => {
    const text = String(v);
    // As the clients do: an expression is used as written, only values lose their accents.
    if (options.useRegExp) return text;
    const plain = fold ? foldDiacriticsInText(text) : text;
    let pattern = plain.replace(REGEXP_SPECIAL, '\\$&');
    if (options.mustStart) pattern = `^${pattern}`;
    if (options.mustEnd) pattern = `${pattern}$`;
    return pattern;
  });
  let subject = ctx.dialect.text(ctx.columns.ref(field.name));
  if (fold) subject = ctx.dialect.foldDiacritics(subject);
  return ctx.dialect.regexMatch(subject, value(patterns.join('|')), options.caseSensitive === true);
}

function operatorCondition(
  ctx: FilterContext,
  field: WarehouseField,
  operator: Operator,
  raw: unknown,
): Sql {
  const name = parameter(field.name, operator);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw errors.invalidParameter(name, 'expected an object with values');
  }
  switch (operator) {
    case 'in':
      return inCondition(ctx.dialect, field, ctx.columns.ref(field.name), listOf(raw, name), name);
    case 'between':
    case 'closed_open':
    case 'time':
      return rangeCondition(ctx, field, listOf(raw, name), operator, name);
    case 'stringSearch':
      return searchCondition(ctx, field, raw, name);
  }
}

/**
 * The condition of a `filters` object: the operators of one column all apply, columns combine
 * with `logical`. Null when there is nothing to filter.
 */
export function filtersCondition(
  filters: unknown,
  logical: LogicalOperator,
  ctx: FilterContext,
): Sql | null {
  if (filters === undefined || filters === null) return null;
  if (typeof filters !== 'object' || Array.isArray(filters)) {
    throw errors.invalidParameter('filters', 'expected an object keyed by column');
  }
  const perColumn: Sql[] = [];
  for (const [column, operators] of Object.entries(filters)) {
    const field = ctx.columns.field(column, 'filters');
    if (operators === null || typeof operators !== 'object' || Array.isArray(operators)) {
      throw errors.invalidParameter(`filters.${column}`, 'expected an object keyed by operator');
    }
    const conditions = Object.entries(operators).map(([operator, body]) => {
      if (!(OPERATORS as readonly string[]).includes(operator)) {
        throw errors.invalidParameter(
          `filters.${column}`,
          `unknown filter '${operator}'; expected one of ${OPERATORS.join(', ')}`,
        );
      }
      return operatorCondition(ctx, field, operator as Operator, body);
    });
    const condition = allOf(conditions);
    if (condition) perColumn.push(condition);
  }
  return logical === 'or' ? anyOf(perColumn) : allOf(perColumn);
}

export function readLogicalOperator(raw: string | undefined): LogicalOperator {
  if (raw === undefined) return 'and';
  const lower = raw.toLowerCase();
  if (lower !== 'and' && lower !== 'or') {
    throw errors.invalidParameter('filtersLogicalOperator', "expected 'and' or 'or'");
  }
  return lower;
}
