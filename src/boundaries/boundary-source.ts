/**
 * A boundary source, as `boundaryTableSource` and `boundaryQuerySource` of CARTO's clients send
 * it: the geometries come from a vector tileset whose features carry a text `geoid`, the data
 * from a table or query keyed by the same `geoid`. deck.gl fetches both tiles of a z/x/y and
 * joins them on the client, so data can change without the boundaries being tiled again.
 */
import { createHash } from 'node:crypto';
import { errors } from '../http/errors.js';
import { optionalString, readQueryParameters } from '../http/request-params.js';
import { readFilters } from '../maps/source-definition.js';
import { splitTableName } from '../sql-builder/dialect.js';
import { readLogicalOperator, type LogicalOperator } from '../widgets/filters.js';
import type { WidgetSourceRequest } from '../widgets/widget-source.js';

/** The key both tiles carry, as deck.gl's boundary merge reads it. */
export const GEOID = 'geoid';

export interface BoundarySource {
  tilesetTableName: string;
  /** The data: a table, or a query with its bind values. */
  properties:
    { type: 'table'; name: string } | { type: 'query'; q: string; queryParameters: unknown[] };
  /** The data columns the tiles carry (besides `geoid`); null: every column. */
  columns: string[] | null;
  filters: Record<string, unknown> | null;
  filtersLogicalOperator: LogicalOperator;
}

/** The columns asked for besides `geoid`; `columns=geoid` alone asks for no data column. */
function readColumns(params: Record<string, unknown>): string[] | null {
  const raw = params.columns;
  if (raw === undefined || raw === null || raw === '') return null;
  const list = (Array.isArray(raw) ? raw : String(raw).split(','))
    .map((c) => String(c).trim())
    .filter((c) => c !== '');
  if (list.length === 0) return null;
  return [...new Set(list.filter((c) => c !== GEOID))];
}

/** A table name, checked now so that its error names the parameter that carried it. */
function readTableName(params: Record<string, unknown>, name: string): string | undefined {
  const text = optionalString(params, name);
  if (text === undefined || text.trim() === '') return undefined;
  splitTableName(text, '"', (part) => part.toLowerCase(), 3, name);
  return text;
}

/** Reads and checks a boundary source from request parameters. */
export function readBoundarySource(params: Record<string, unknown>): BoundarySource {
  const tilesetTableName = readTableName(params, 'tilesetTableName');
  if (tilesetTableName === undefined) throw errors.missingParameter('tilesetTableName');
  const table = readTableName(params, 'propertiesTableName');
  const query = optionalString(params, 'propertiesSqlQuery');
  if (table !== undefined && query !== undefined) {
    throw errors.invalidParameter(
      'propertiesSqlQuery',
      'send either propertiesTableName or propertiesSqlQuery, not both',
    );
  }
  let properties: BoundarySource['properties'];
  if (query !== undefined && query.trim() !== '') {
    properties = { type: 'query', q: query, queryParameters: readQueryParameters(params) };
  } else if (table !== undefined) {
    properties = { type: 'table', name: table };
  } else {
    throw errors.missingParameter('propertiesTableName');
  }
  return {
    tilesetTableName,
    properties,
    columns: readColumns(params),
    filters: readFilters(params),
    filtersLogicalOperator: readLogicalOperator(optionalString(params, 'filtersLogicalOperator')),
  };
}

/** The parameters that recreate this source, in a stable order, for the URLs we hand out. */
export function boundaryUrlParameters(source: BoundarySource): URLSearchParams {
  const params = new URLSearchParams({ tilesetTableName: source.tilesetTableName });
  const { properties } = source;
  if (properties.type === 'table') params.set('propertiesTableName', properties.name);
  else {
    params.set('propertiesSqlQuery', properties.q);
    if (properties.queryParameters.length > 0) {
      params.set('queryParameters', JSON.stringify(properties.queryParameters));
    }
  }
  if (source.columns) params.set('columns', source.columns.join(','));
  if (source.filters) {
    params.set('filters', JSON.stringify(source.filters));
    params.set('filtersLogicalOperator', source.filtersLogicalOperator);
  }
  return params;
}

/** A stable key of what defines the source's tiles, on one connection version. */
export function boundarySourceKey(source: BoundarySource, connectionKey: string): string {
  const identity = JSON.stringify([connectionKey, boundaryUrlParameters(source).toString()]);
  return createHash('sha256').update(identity).digest('base64url').slice(0, 22);
}

/** The source without its filters: what its data's inspection depends on. */
export function unfiltered(source: BoundarySource): BoundarySource {
  return { ...source, filters: null, filtersLogicalOperator: 'and' };
}

/** The data source as the widget machinery reads it: filters checked, columns learned. */
export function propertiesRequest(source: BoundarySource): WidgetSourceRequest {
  const { properties } = source;
  const isTable = properties.type === 'table';
  return {
    type: properties.type,
    source: isTable ? properties.name : properties.q,
    sourceParameter: isTable ? 'propertiesTableName' : 'propertiesSqlQuery',
    queryParameters: isTable ? [] : properties.queryParameters,
    filters: source.filters,
    filtersLogicalOperator: source.filtersLogicalOperator,
    spatialDataType: 'geo',
    spatialDataColumn: 'geom',
    spatialFilters: null,
    spatialFiltersMode: 'intersects',
  };
}
