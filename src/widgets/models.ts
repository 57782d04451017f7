/**
 * The widget models of CARTO's SQL Model API (`/v3/sql/{connection}/model/{model}`): each
 * reads its `params`, builds its statements with the connection's dialect, and shapes the
 * rows into the answer the clients parse (`{rows, metadata?}`).
 */
import { errors } from '../http/errors.js';
import { TIME_STEPS, type Dialect, type TimeStep } from '../sql-builder/dialect.js';
import { allOf, identifier, join, raw, sql, value, EMPTY, type Sql } from '../sql-builder/sql.js';
import { aggregate, readOperation } from './aggregation.js';
import { finiteValue, isNumeric, timeKindOf, type SourceColumns } from './columns.js';
import { checkedSelectList } from './expression.js';

export const MODELS = [
  'formula',
  'category',
  'histogram',
  'range',
  'scatterplot',
  'timeseries',
  'table',
  'aggregations',
  'pick',
] as const;
export type ModelName = (typeof MODELS)[number];

/** Points a scatterplot returns at most; CARTO's clients ask for exactly this many. */
export const SCATTERPLOT_LIMIT = 500;
/** Rows one page of a table widget may hold. */
export const MAX_TABLE_PAGE = 10_000;
/** Ticks a histogram may have. */
export const MAX_HISTOGRAM_TICKS = 1_000;

export interface ModelInput {
  dialect: Dialect;
  columns: SourceColumns;
  /** The source as a FROM item. */
  from: Sql;
  /** Filters and spatial filters together, or null. */
  where: Sql | null;
  params: Record<string, unknown>;
  /** Most rows a model may return before it answers 400. */
  maxRows: number;
  /** The source's spatial column, whose geometry hash is `_carto_feature_id`. */
  spatialColumn?: string;
}

export interface ModelAnswer {
  rows: unknown[];
  metadata?: Record<string, unknown>;
}

export interface ModelPlan {
  statements: Sql[];
  answer(results: Record<string, unknown>[][]): ModelAnswer;
}

function whereOf(...conditions: (Sql | null)[]): Sql {
  const all = allOf(conditions.filter((c): c is Sql => c !== null));
  return all ? sql` WHERE ${all}` : EMPTY;
}

/** ` FROM <source> WHERE <filters AND extra>` */
function fromWhere(input: ModelInput, ...extra: (Sql | null)[]): Sql {
  return sql` FROM ${input.from}${whereOf(input.where, ...extra)}`;
}

function limitOf(count: number): Sql {
  return raw(` LIMIT ${count}`);
}

/**
 * The rows of a statement that must aggregate to one row; an expression that does not
 * aggregate (`population` instead of `sum(population)`) answers 400, not a row per feature.
 */
function oneRow(results: Record<string, unknown>[][], parameter: string) {
  const rows = rowsOf(results);
  if (rows.length > 1) {
    throw errors.invalidParameter(parameter, 'the expression must aggregate the rows to one value');
  }
  return rows;
}

function rowsOf(results: Record<string, unknown>[][], index = 0): Record<string, unknown>[] {
  return results[index] ?? [];
}

/** A LIMIT one past the cap, so an answer that would be cut is refused instead. */
function capped(maxRows: number): Sql {
  return raw(` LIMIT ${maxRows + 1}`);
}

function checkCap(rows: unknown[], maxRows: number): void {
  if (rows.length > maxRows) throw errors.tooManyRows(maxRows);
}

function integerParam(
  params: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = params[name];
  if (raw === undefined || raw === null || raw === '') return fallback;
  const number = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw errors.invalidParameter(name, `expected a whole number from ${min} to ${max}`);
  }
  return number;
}

/** The aggregate of each group: `operation` over `operationColumn`, which defaults to `column`. */
function groupAggregate(input: ModelInput): Sql {
  const { params } = input;
  const column = params.operationColumn ?? params.column;
  return aggregate(
    input,
    readOperation(params.operation),
    column,
    params.operationExp,
    'operationColumn',
  );
}

function formula(input: ModelInput): ModelPlan {
  const { params } = input;
  const operation = readOperation(params.operation);
  const agg = aggregate(input, operation, params.column, params.operationExp);
  return {
    statements: [sql`SELECT ${agg} AS ${identifier('value')}${fromWhere(input)}${limitOf(2)}`],
    answer: (results) => {
      const rows = oneRow(results, 'operationExp');
      return { rows: [{ value: rows[0]?.value ?? null }] };
    },
  };
}

const CATEGORY_ORDERS = [
  'frequency_desc',
  'frequency_asc',
  'alphabetical_asc',
  'alphabetical_desc',
];

function categoryOrder(orderBy: unknown): Sql {
  const order = orderBy ?? 'frequency_desc';
  if (typeof order !== 'string' || !CATEGORY_ORDERS.includes(order)) {
    throw errors.invalidParameter('orderBy', `expected one of ${CATEGORY_ORDERS.join(', ')}`);
  }
  const name = identifier('name');
  const val = identifier('value');
  switch (order) {
    case 'frequency_asc':
      return sql`${val} ASC NULLS LAST, ${name} ASC`;
    case 'alphabetical_asc':
      return sql`${name} ASC NULLS LAST`;
    case 'alphabetical_desc':
      return sql`${name} DESC NULLS LAST`;
    default:
      return sql`${val} DESC NULLS LAST, ${name} ASC`;
  }
}

function category(input: ModelInput): ModelPlan {
  const { params, columns, dialect } = input;
  const column = columns.ref(params.column);
  const agg = groupAggregate(input);
  const order = categoryOrder(params.orderBy);
  const name = identifier('name');
  const val = identifier('value');
  const grouped = sql`SELECT ${column} AS ${name}, ${agg} AS ${val}${fromWhere(input)}
    GROUP BY ${column}`;
  const categories = sql`SELECT ${name}, ${val} FROM (${grouped}) AS ${identifier('_categories')}
    ORDER BY ${order}`;
  const threshold = params.othersThreshold;
  if (threshold === undefined || threshold === null || threshold === '' || threshold === 0) {
    return {
      statements: [sql`${categories}${capped(input.maxRows)}`],
      answer: (results) => {
        const rows = rowsOf(results);
        checkCap(rows, input.maxRows);
        return { rows: rows.map((r) => ({ name: r.name, value: r.value })) };
      },
    };
  }
  const top = integerParam(params, 'othersThreshold', 0, 1, input.maxRows);
  const topAlias = identifier('_top');
  const topRows = sql`${categories}${limitOf(top)}`;
  // The source's rows are named apart, so a source column called `name` or `value` is not
  // read as the top list's own column.
  const rowsAlias = identifier('_rows');
  const rows = sql`(SELECT *${fromWhere(input)}) AS ${rowsAlias}`;
  const isTop = dialect.nullSafeEquals(sql`${topAlias}.${name}`, sql`${rowsAlias}.${column}`);
  const rest = sql`SELECT ${agg} FROM ${rows}
    WHERE NOT EXISTS (SELECT 1 FROM ${topAlias} WHERE ${isTop})`;
  const others = identifier('_others');
  return {
    statements: [
      sql`WITH ${topAlias} AS (${topRows})
        SELECT ${name}, ${val}, 0 AS ${others} FROM ${topAlias}
        UNION ALL SELECT NULL, (${rest}), 1`,
    ],
    answer: (results) => {
      const rows = rowsOf(results);
      const others = rows.find((r) => Number(r._others) === 1);
      const named = rows
        .filter((r) => Number(r._others) === 0)
        .map((r) => ({ name: r.name, value: r.value }));
      // UNION ALL keeps no order: sort as the statement's ORDER BY did.
      return {
        rows: sortCategories(named, params.orderBy),
        metadata: { others: others?.value ?? 0 },
      };
    },
  };
}

function compareNames(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

function compareValues(a: unknown, b: unknown): number {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
  if (b === null || b === undefined) return -1;
  return Number(a) - Number(b);
}

function sortCategories(rows: { name: unknown; value: unknown }[], orderBy: unknown) {
  const sorted = [...rows];
  switch (orderBy ?? 'frequency_desc') {
    case 'frequency_asc':
      return sorted.sort((a, b) => compareValues(a.value, b.value) || compareNames(a.name, b.name));
    case 'alphabetical_asc':
      return sorted.sort((a, b) => compareNames(a.name, b.name));
    case 'alphabetical_desc':
      return sorted.sort((a, b) => compareNames(b.name, a.name));
    default:
      return sorted.sort((a, b) => compareValues(b.value, a.value) || compareNames(a.name, b.name));
  }
}

function readTicks(raw: unknown): number[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw errors.invalidParameter('ticks', 'expected a non-empty list of numbers');
  }
  if (raw.length > MAX_HISTOGRAM_TICKS) {
    throw errors.invalidParameter('ticks', `more than ${MAX_HISTOGRAM_TICKS} ticks`);
  }
  if (!raw.every((t) => typeof t === 'number' && Number.isFinite(t))) {
    throw errors.invalidParameter('ticks', 'ticks must be finite numbers');
  }
  const ticks = raw as number[];
  if (ticks.some((t, i) => i > 0 && t <= ticks[i - 1]!)) {
    throw errors.invalidParameter('ticks', 'ticks must be in ascending order');
  }
  return ticks;
}

function histogram(input: ModelInput): ModelPlan {
  const { params, columns, dialect } = input;
  const field = columns.field(params.column);
  if (!isNumeric(field)) {
    throw errors.invalidParameter('column', `'${field.name}' is not a number column`);
  }
  const ticks = readTicks(params.ticks);
  const operation = readOperation(params.operation);
  const agg = aggregate(input, operation, params.column, params.operationExp);
  const subject = finiteValue(field, (e) => dialect.finite(e));
  const tick = identifier('tick');
  return {
    statements: [
      sql`SELECT ${dialect.bucketIndex(subject, ticks)} AS ${tick}, ${agg} AS ${identifier('value')}
        ${fromWhere(input, sql`${subject} IS NOT NULL`)} GROUP BY 1 ORDER BY 1`,
    ],
    answer: (results) => ({
      rows: rowsOf(results).map((r) => ({ tick: Number(r.tick), value: r.value })),
    }),
  };
}

function range(input: ModelInput): ModelPlan {
  const { params, columns, dialect } = input;
  const field = columns.field(params.column);
  if (!isNumeric(field) && timeKindOf(field) === null && field.cartoType !== 'string') {
    throw errors.invalidParameter(
      'column',
      `cannot take the range of the ${field.nativeType} column '${field.name}'`,
    );
  }
  const subject = isNumeric(field)
    ? finiteValue(field, (e) => dialect.finite(e))
    : columns.ref(params.column);
  return {
    statements: [
      sql`SELECT MIN(${subject}) AS ${identifier('min')}, MAX(${subject}) AS ${identifier('max')}
        ${fromWhere(input)}`,
    ],
    answer: (results) => {
      const row = rowsOf(results)[0] ?? {};
      return { rows: [{ min: row.min ?? null, max: row.max ?? null }] };
    },
  };
}

function numericColumn(input: ModelInput, name: string): Sql {
  const field = input.columns.field(input.params[name], name);
  if (!isNumeric(field))
    throw errors.invalidParameter(name, `'${field.name}' is not a number column`);
  return finiteValue(field, (e) => input.dialect.finite(e));
}

const JOIN_OPERATIONS = ['count', 'avg', 'min', 'max', 'sum'];

function checkJoinOperation(params: Record<string, unknown>, name: string): void {
  const raw = params[name];
  if (raw !== undefined && raw !== null && raw !== '' && !JOIN_OPERATIONS.includes(String(raw))) {
    throw errors.invalidParameter(name, `expected one of ${JOIN_OPERATIONS.join(', ')}`);
  }
}

function scatterplot(input: ModelInput): ModelPlan {
  const { params } = input;
  const x = numericColumn(input, 'xAxisColumn');
  const y = numericColumn(input, 'yAxisColumn');
  // Join operations combine the values of one feature split over several rows; a row here
  // is a feature, so they are checked and have nothing to combine.
  checkJoinOperation(params, 'xAxisJoinOperation');
  checkJoinOperation(params, 'yAxisJoinOperation');
  const limit = Math.min(
    integerParam(params, 'limit', SCATTERPLOT_LIMIT, 1, 1_000_000),
    SCATTERPLOT_LIMIT,
  );
  return {
    statements: [
      sql`SELECT ${x} AS ${identifier('x')}, ${y} AS ${identifier('y')} FROM ${input.from}${whereOf(
        input.where,
        sql`${x} IS NOT NULL`,
        sql`${y} IS NOT NULL`,
      )} LIMIT ${raw(String(limit))}`,
    ],
    answer: (results) => ({ rows: rowsOf(results).map((r) => ({ x: r.x, y: r.y })) }),
  };
}

/** IANA time zone names as `Intl` knows them; anything else is refused before SQL. */
function readTimezone(raw: unknown): string {
  if (raw === undefined || raw === null || raw === '') return 'UTC';
  if (typeof raw !== 'string' || raw.length > 64)
    throw errors.invalidParameter('timezone', 'expected an IANA time zone');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: raw });
    return raw;
  } catch {
    throw errors.invalidParameter('timezone', `unknown time zone '${raw}'`);
  }
}

function isoInstant(raw: unknown): unknown {
  if (raw === null || raw === undefined) return null;
  const date = new Date(raw as string);
  return Number.isNaN(date.getTime()) ? raw : date.toISOString();
}

function timeseries(input: ModelInput): ModelPlan {
  const { params, columns, dialect } = input;
  const field = columns.field(params.column);
  const kind = timeKindOf(field);
  if (!kind) throw errors.invalidParameter('column', `'${field.name}' does not hold time`);
  const step = params.stepSize;
  if (typeof step !== 'string' || !(TIME_STEPS as readonly string[]).includes(step)) {
    throw errors.invalidParameter('stepSize', `expected one of ${TIME_STEPS.join(', ')}`);
  }
  const multiplier = integerParam(params, 'stepMultiplier', 1, 1, 10_000);
  const timezone = readTimezone(params.timezone);
  checkJoinOperation(params, 'joinOperation');
  const agg = groupAggregate(input);
  const ref = columns.ref(params.column);
  const bucket = dialect.timeBucket(
    dialect.instant(ref, kind),
    step as TimeStep,
    multiplier,
    value(timezone),
  );
  const name = identifier('name');
  const val = identifier('value');
  const notNull = sql`${ref} IS NOT NULL`;

  const split = params.splitByCategory;
  if (split === undefined || split === null || split === '') {
    return {
      statements: [
        sql`SELECT ${bucket} AS ${name}, ${agg} AS ${val}${fromWhere(input, notNull)}
          GROUP BY 1 ORDER BY 1${capped(input.maxRows)}`,
      ],
      answer: (results) => {
        const rows = rowsOf(results);
        checkCap(rows, input.maxRows);
        return { rows: rows.map((r) => ({ name: isoInstant(r.name), value: r.value })) };
      },
    };
  }
  const categoryRef = columns.ref(split, 'splitByCategory');
  const categoryAlias = identifier('category');
  const values = params.splitByCategoryValues;
  let chosen: Sql;
  if (values !== undefined && values !== null && values !== '') {
    if (!Array.isArray(values) || values.length === 0 || values.length > 1_000) {
      throw errors.invalidParameter('splitByCategoryValues', 'expected a list of 1 to 1000 values');
    }
    chosen = sql`${categoryRef} IN (${join(values.map((v) => value(v)))})`;
  } else {
    const limit = integerParam(params, 'splitByCategoryLimit', 1_000, 1, 1_000);
    const top = sql`SELECT ${categoryRef}${fromWhere(input, notNull)}
      GROUP BY ${categoryRef} ORDER BY COUNT(*) DESC${limitOf(limit)}`;
    chosen = sql`${categoryRef} IN (${top})`;
  }
  return {
    statements: [
      sql`SELECT ${bucket} AS ${name}, ${categoryRef} AS ${categoryAlias}, ${agg} AS ${val}
        ${fromWhere(input, notNull, chosen)} GROUP BY 1, 2 ORDER BY 1, 2${capped(input.maxRows)}`,
    ],
    answer: (results) => {
      const rows = rowsOf(results);
      checkCap(rows, input.maxRows);
      const categories = [...new Set(rows.map((r) => r.category))];
      return {
        rows: rows.map((r) => ({ name: isoInstant(r.name), category: r.category, value: r.value })),
        metadata: { categories },
      };
    },
  };
}

function table(input: ModelInput): ModelPlan {
  const { params, columns, dialect } = input;
  const requested = params.column ?? params.columns;
  let selected: string[];
  if (requested === undefined || requested === null || requested === '') {
    selected = columns.fields.filter((f) => f.cartoType !== 'geometry').map((f) => f.name);
  } else {
    const list = Array.isArray(requested) ? requested : [requested];
    selected = list.map((c) => columns.field(c, 'column').name);
  }
  if (selected.length === 0) throw errors.invalidParameter('column', 'no column to show');
  const limit = integerParam(params, 'limit', 10, 0, MAX_TABLE_PAGE);
  const offset = integerParam(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  let order = EMPTY;
  if (params.sortBy !== undefined && params.sortBy !== null && params.sortBy !== '') {
    const direction = params.sortDirection ?? 'asc';
    if (direction !== 'asc' && direction !== 'desc') {
      throw errors.invalidParameter('sortDirection', "expected 'asc' or 'desc'");
    }
    const sortBy = columns.ref(params.sortBy, 'sortBy');
    order = sql` ORDER BY ${sortBy} ${raw(direction === 'asc' ? 'ASC' : 'DESC')} NULLS LAST`;
  }
  let search: Sql | null = null;
  const searchColumn = params.searchFilterColumn;
  const searchText = params.searchFilterText;
  if (
    searchColumn !== undefined &&
    searchColumn !== null &&
    searchColumn !== '' &&
    typeof searchText === 'string' &&
    searchText !== ''
  ) {
    const subject = dialect.foldDiacritics(
      dialect.text(columns.ref(searchColumn, 'searchFilterColumn')),
    );
    const pattern = searchText
      .normalize('NFD')
      .replace(/\p{Diacritic}/gu, '')
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    search = dialect.regexMatch(subject, value(pattern), false);
  }
  const where = whereOf(input.where, search);
  return {
    statements: [
      sql`SELECT ${join(selected.map((c) => identifier(c)))} FROM ${input.from}${where}${order}
        ${dialect.paging(limit, offset)}`,
      sql`SELECT COUNT(*) AS ${identifier('total')} FROM ${input.from}${where}`,
    ],
    answer: (results) => ({
      rows: rowsOf(results, 0),
      metadata: { total: Number(rowsOf(results, 1)[0]?.total ?? 0) },
    }),
  };
}

const ALIAS = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function aggregations(input: ModelInput): ModelPlan {
  const { params } = input;
  const spec = params.aggregations;
  let select: Sql;
  if (typeof spec === 'string') {
    select = checkedSelectList(spec, 'aggregations');
  } else if (Array.isArray(spec) && spec.length > 0 && spec.length <= 100) {
    const items = spec.map((item: unknown, i) => {
      const entry = (item ?? {}) as { column?: unknown; operation?: unknown; alias?: unknown };
      const operation = readOperation(entry.operation, `aggregations[${i}].operation`);
      if (operation === 'custom')
        throw errors.invalidParameter(
          `aggregations[${i}].operation`,
          'use the string form for custom expressions',
        );
      const alias =
        entry.alias ?? `${operation}_${String(entry.column ?? 'rows')}`.replace(/\W/g, '_');
      if (typeof alias !== 'string' || !ALIAS.test(alias)) {
        throw errors.invalidParameter(`aggregations[${i}].alias`, 'expected a simple name');
      }
      const column = `aggregations[${i}].column`;
      const agg = aggregate(input, operation, entry.column, undefined, column);
      return sql`${agg} AS ${identifier(alias)}`;
    });
    const aliases = spec.map((item: { alias?: unknown } | null, i) => item?.alias ?? i);
    if (new Set(aliases).size !== aliases.length) {
      throw errors.invalidParameter('aggregations', 'each aggregation needs its own alias');
    }
    select = join(items);
  } else {
    throw errors.invalidParameter(
      'aggregations',
      'expected a list of {column, operation, alias} or a SQL string',
    );
  }
  return {
    statements: [sql`SELECT ${select}${fromWhere(input)}${limitOf(2)}`],
    answer: (results) => ({ rows: oneRow(results, 'aggregations') }),
  };
}

const BUILDERS: Record<Exclude<ModelName, 'pick'>, (input: ModelInput) => ModelPlan> = {
  formula,
  category,
  histogram,
  range,
  scatterplot,
  timeseries,
  table,
  aggregations,
};

export function readModelName(raw: string): ModelName {
  if (!(MODELS as readonly string[]).includes(raw)) {
    throw errors.invalidParameter(
      'model',
      `unknown model '${raw}'; expected one of ${MODELS.join(', ')}`,
    );
  }
  return raw as ModelName;
}

/** The tile property holding a feature's geometry hash. */
const FEATURE_ID = '_carto_feature_id';

/** Most feature ids one request may name, as CARTO's clients cap them. */
export const MAX_FEATURE_IDS = 1_000;

const FEATURE_ID_PATTERN = /^[0-9a-f]{32}$/;

function readFeatureIds(raw: unknown): string[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_FEATURE_IDS) {
    throw errors.invalidParameter('featureIds', `expected 1 to ${MAX_FEATURE_IDS} feature ids`);
  }
  if (!raw.every((id) => typeof id === 'string' && FEATURE_ID_PATTERN.test(id))) {
    throw errors.invalidParameter('featureIds', 'expected the _carto_feature_id values of tiles');
  }
  return raw as string[];
}

/** The hash of each row's geometry, as tiles carry it in `_carto_feature_id`. */
function featureIdOf(input: ModelInput): Sql {
  const column = input.columns.field(input.spatialColumn ?? 'geom', 'spatialDataColumn');
  if (column.cartoType !== 'geometry') throw errors.noGeometryColumn(column.name);
  return input.dialect.featureId(identifier(column.name));
}

/**
 * `pick`: the rows of the features whose `_carto_feature_id` the client took from tiles, in
 * the order of the ids asked for (features of identical geometry share an id and all come).
 */
function pick(input: ModelInput): ModelPlan {
  const { params, columns } = input;
  const ids = readFeatureIds(params.featureIds);
  const id = featureIdOf(input);
  const asked = Array.isArray(params.columns) ? params.columns : [];
  const selected = asked
    .filter((c) => c !== FEATURE_ID)
    .map((c) => identifier(columns.field(c, 'columns').name));
  const limit = integerParam(params, 'limit', MAX_FEATURE_IDS, 1, MAX_FEATURE_IDS);
  const offset = integerParam(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const chosen = sql`${id} IN (${join(ids.map((v) => value(v)))})`;
  const items = [...selected, sql`${id} AS ${identifier(FEATURE_ID)}`];
  return {
    statements: [
      sql`SELECT ${join(items)}${fromWhere(input, chosen)}
        ${input.dialect.paging(limit, offset)}`,
    ],
    answer: (results) => {
      const order = new Map(ids.map((v, i) => [v, i]));
      const rows = [...rowsOf(results)].sort(
        (a, b) => order.get(String(a[FEATURE_ID]))! - order.get(String(b[FEATURE_ID]))!,
      );
      if (!asked.includes(FEATURE_ID)) for (const row of rows) delete row[FEATURE_ID];
      return { rows, metadata: { total: rows.length } };
    },
  };
}

/** The plan of a model over a prepared source; `featureIds` narrow any model to those features. */
export function planModel(model: ModelName, input: ModelInput): ModelPlan {
  if (model === 'pick') return pick(input);
  const ids = input.params.featureIds;
  if (ids === undefined || ids === null) return BUILDERS[model](input);
  const chosen = sql`${featureIdOf(input)} IN (${join(readFeatureIds(ids).map((v) => value(v)))})`;
  return BUILDERS[model]({ ...input, where: allOf([input.where, chosen].filter(isSql)) });
}

function isSql(item: Sql | null): item is Sql {
  return item !== null;
}
