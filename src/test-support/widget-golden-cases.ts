/**
 * Widget requests whose SQL is pinned per dialect (golden files) and, for the PostgreSQL
 * family, run for real against a fixture table of the same columns.
 */
import { dialectNamed, type DialectName } from '../sql-builder/dialect.js';
import { render } from '../sql-builder/sql.js';
import type { WarehouseField } from '../warehouses/driver.js';
import { SourceColumns } from '../widgets/columns.js';
import { planModel, type ModelName } from '../widgets/models.js';
import { sourceCondition } from '../widgets/widget-source.js';

export const GOLDEN_FIELDS: WarehouseField[] = [
  { name: 'id', nativeType: 'int4', cartoType: 'number' },
  { name: 'Name', nativeType: 'text', cartoType: 'string' },
  { name: 'pop 2020', nativeType: 'int8', cartoType: 'bigint' },
  { name: 'v', nativeType: 'float8', cartoType: 'number' },
  { name: 't', nativeType: 'timestamptz', cartoType: 'timestamp' },
  { name: 'geom', nativeType: 'geometry', cartoType: 'geometry' },
];

export interface GoldenCase {
  name: string;
  model: ModelName;
  params: Record<string, unknown>;
  filters?: unknown;
  filtersLogicalOperator?: 'and' | 'or';
  spatialFilters?: unknown;
}

const VIEWPORT = {
  type: 'Polygon',
  coordinates: [
    [
      [-10, 35],
      [5, 35],
      [5, 44],
      [-10, 44],
      [-10, 35],
    ],
  ],
};

/** A feature id as tiles carry it (`md5(ST_AsBinary(geom))`, 32 hex digits). */
const FEATURE_ID = '0f92f44fe0e1b0ff96ef32696ddb4e9e';

export const GOLDEN_CASES: GoldenCase[] = [
  { name: 'formula-count', model: 'formula', params: { operation: 'count', column: '*' } },
  { name: 'formula-sum', model: 'formula', params: { operation: 'sum', column: 'pop 2020' } },
  { name: 'formula-max-float', model: 'formula', params: { operation: 'max', column: 'v' } },
  {
    name: 'formula-custom',
    model: 'formula',
    params: { operation: 'custom', operationExp: 'sum(id) * 2' },
  },
  {
    name: 'formula-filters',
    model: 'formula',
    params: { operation: 'avg', column: 'v' },
    filters: {
      Name: { in: { values: ['A', null] }, stringSearch: { values: ['coru'] } },
      'pop 2020': { between: { values: [[10, null]] } },
      v: { closed_open: { values: [[0, 5]] } },
      t: { time: { values: [[0, 86_400_000]] } },
    },
  },
  {
    name: 'formula-or-viewport',
    model: 'formula',
    params: { operation: 'count' },
    filters: { id: { in: { values: [1, 2] } }, v: { between: { values: [[1, 2]] } } },
    filtersLogicalOperator: 'or',
    spatialFilters: { geom: VIEWPORT },
  },
  {
    name: 'category',
    model: 'category',
    params: { column: 'Name', operation: 'sum', operationColumn: 'pop 2020' },
  },
  {
    name: 'category-others',
    model: 'category',
    params: { column: 'Name', operation: 'count', othersThreshold: 2, orderBy: 'frequency_asc' },
  },
  {
    name: 'histogram',
    model: 'histogram',
    params: { column: 'v', operation: 'count', ticks: [0, 1, 2] },
  },
  { name: 'range', model: 'range', params: { column: 'v' } },
  {
    name: 'scatterplot',
    model: 'scatterplot',
    params: { xAxisColumn: 'v', yAxisColumn: 'pop 2020', limit: 500 },
  },
  { name: 'timeseries-day', model: 'timeseries', params: { column: 't', stepSize: 'day' } },
  {
    name: 'timeseries-hours-zone',
    model: 'timeseries',
    params: { column: 't', stepSize: 'hour', stepMultiplier: 6, timezone: 'Asia/Kolkata' },
  },
  {
    name: 'timeseries-week',
    model: 'timeseries',
    params: { column: 't', stepSize: 'week', operation: 'avg', operationColumn: 'v' },
  },
  {
    name: 'timeseries-quarter-split',
    model: 'timeseries',
    params: {
      column: 't',
      stepSize: 'month',
      stepMultiplier: 3,
      splitByCategory: 'Name',
      splitByCategoryLimit: 2,
    },
  },
  {
    name: 'table',
    model: 'table',
    params: {
      column: ['Name', 'pop 2020'],
      sortBy: 'pop 2020',
      sortDirection: 'desc',
      limit: 2,
      offset: 1,
      searchFilterColumn: 'Name',
      searchFilterText: 'a',
    },
  },
  {
    name: 'pick',
    model: 'pick',
    params: { featureIds: [FEATURE_ID], columns: ['Name', '_carto_feature_id'], limit: 10 },
  },
  {
    name: 'formula-feature-ids',
    model: 'formula',
    params: { operation: 'count', featureIds: [FEATURE_ID], geometryType: 'points' },
  },
  {
    name: 'aggregations',
    model: 'aggregations',
    params: {
      aggregations: [
        { column: 'pop 2020', operation: 'sum', alias: 'total' },
        { column: 'v', operation: 'max', alias: 'top' },
      ],
    },
  },
];

/** Renders a golden case's statements for a dialect, with its bind values. */
export async function renderGoldenCase(
  dialectName: DialectName,
  golden: GoldenCase,
  table = 'widgets.golden',
) {
  const dialect = dialectNamed(dialectName);
  const columns = new SourceColumns(GOLDEN_FIELDS);
  const where = await sourceCondition(
    {
      filters: golden.filters,
      filtersLogicalOperator: golden.filtersLogicalOperator ?? 'and',
      spatialFilters: golden.spatialFilters,
    },
    { dialect, columns, spatialDataType: 'geo', sridOf: () => Promise.resolve(4326) },
  );
  const plan = planModel(golden.model, {
    dialect,
    columns,
    from: dialect.table(table),
    where,
    params: golden.params,
    maxRows: 1000,
  });
  return plan.statements.map((statement) => render(statement, dialect));
}
