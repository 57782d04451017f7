/* global window, URLSearchParams */
// Reads the source the map preview's address names. A module the page runs before preview.js,
// which takes `readSourceRequest` from `window.graticulePreview`: an import would not carry
// the content version that lets the page's assets be cached for good.

/** What each `spatialDataType` of a table or query source is drawn with. */
const VECTOR_KINDS = {
  geo: { table: 'vectorTableSource', query: 'vectorQuerySource', layer: 'VectorTileLayer' },
  h3: { table: 'h3TableSource', query: 'h3QuerySource', layer: 'H3TileLayer' },
  quadbin: { table: 'quadbinTableSource', query: 'quadbinQuerySource', layer: 'QuadbinTileLayer' },
};
/** What CARTO's own clients aggregate spatial index cells by when nothing else is asked for. */
const DEFAULT_AGGREGATION_EXP = '1 AS __aggregationValue';

/** The parameters each source type reads, besides `type`, `connection` and `basemap`. */
const PARAMETERS_BY_TYPE = {
  table: ['name', 'spatialDataColumn', 'spatialDataType', 'aggregationExp', 'aggregationResLevel'],
  query: [
    'q',
    'queryParameters',
    'spatialDataColumn',
    'spatialDataType',
    'aggregationExp',
    'aggregationResLevel',
  ],
  raster: ['name', 'band'],
  boundary: [
    'tilesetTableName',
    'propertiesTableName',
    'propertiesSqlQuery',
    'queryParameters',
    'column',
  ],
};
const SOURCE_TYPES = Object.keys(PARAMETERS_BY_TYPE);

/** A trimmed parameter, or undefined when it is absent or blank. */
function readText(params, name) {
  return params.get(name)?.trim() || undefined;
}

/** A finite number from a parameter, or undefined when it is absent. */
function readNumber(params, name, problems) {
  const text = params.get(name);
  if (text === null || text === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) problems.push(`'${name}' must be a number`);
  return value;
}

function readQueryParameters(params, options, problems) {
  const text = params.get('queryParameters');
  if (!text) return;
  try {
    options.queryParameters = JSON.parse(text);
  } catch {
    problems.push("'queryParameters' must be JSON (an object or an array).");
  }
}

/** The source type: `type`, or what the other parameters imply. */
function sourceTypeOf(params) {
  const type = readText(params, 'type');
  if (type) return type;
  if (params.has('tilesetTableName')) return 'boundary';
  return readText(params, 'q') && !readText(params, 'name') ? 'query' : 'table';
}

/** Parameters given that the source type does not read: a mistake worth pointing out. */
function unusedParameters(params, type) {
  const problems = [];
  // `name` and `q` of table and query sources have their own messages.
  const own = ['table', 'query'].includes(type)
    ? [...PARAMETERS_BY_TYPE.table, ...PARAMETERS_BY_TYPE.query]
    : PARAMETERS_BY_TYPE[type];
  for (const [name, value] of params) {
    if (own.includes(name) || value.trim() === '') continue;
    const readers = SOURCE_TYPES.filter((other) => PARAMETERS_BY_TYPE[other].includes(name));
    if (readers.length === 0) continue;
    problems.push(`'${name}' is for ${readers.join(' and ')} sources only.`);
  }
  return problems;
}

/** A table (`name`) or query (`q`) source, of geometries or of H3 or quadbin cells. */
function readVectorSource(params, type, problems) {
  const tableName = readText(params, 'name');
  const sqlQuery = readText(params, 'q');
  const spatialDataType = readText(params, 'spatialDataType') ?? 'geo';
  if (!tableName && !sqlQuery) {
    problems.push("Missing parameter 'name' (a table) or 'q' (a SQL query).");
  }
  if (tableName && sqlQuery) problems.push("Give either 'name' or 'q', not both.");
  if (params.has('type') && type === 'table' && sqlQuery && !tableName) {
    problems.push("'type=table' draws a table: give 'name', not 'q'.");
  }
  if (params.has('type') && type === 'query' && tableName && !sqlQuery) {
    problems.push("'type=query' draws a SQL query: give 'q', not 'name'.");
  }
  const kind = VECTOR_KINDS[spatialDataType];
  if (!Object.hasOwn(VECTOR_KINDS, spatialDataType)) {
    problems.push(`Unknown 'spatialDataType' '${spatialDataType}': use geo, h3 or quadbin.`);
  }

  const options = {};
  if (tableName) options.tableName = tableName;
  if (sqlQuery) options.sqlQuery = sqlQuery;
  const spatialDataColumn = readText(params, 'spatialDataColumn');
  if (spatialDataColumn) options.spatialDataColumn = spatialDataColumn;
  const aggregationExp = readText(params, 'aggregationExp');
  if (aggregationExp) options.aggregationExp = aggregationExp;
  else if (spatialDataType !== 'geo') options.aggregationExp = DEFAULT_AGGREGATION_EXP;
  const aggregationResLevel = readNumber(params, 'aggregationResLevel', problems);
  if (aggregationResLevel !== undefined) options.aggregationResLevel = aggregationResLevel;
  if (sqlQuery) readQueryParameters(params, options, problems);
  return {
    sourceFunction: kind?.[tableName ? 'table' : 'query'],
    layer: kind?.layer,
    options,
    // H3 tiling does not follow the world's copies: with them it keeps reloading its tiles.
    repeatWorld: spatialDataType !== 'h3',
    label: tableName || sqlQuery,
  };
}

/** A raster table (`name`), coloured by one band (`band`, by default the first). */
function readRasterSource(params, problems) {
  const tableName = readText(params, 'name');
  if (!tableName) problems.push("Missing parameter 'name': the raster table.");
  return {
    sourceFunction: 'rasterSource',
    layer: 'RasterTileLayer',
    options: { tableName },
    colorBy: readText(params, 'band'),
    repeatWorld: true,
    label: tableName && `${tableName} (raster)`,
  };
}

/**
 * A boundary tileset (`tilesetTableName`) joined with the data of a table
 * (`propertiesTableName`) or a query (`propertiesSqlQuery`), coloured by a numeric column
 * (`column`, by default the first).
 */
function readBoundarySource(params, problems) {
  const tilesetTableName = readText(params, 'tilesetTableName');
  const propertiesTableName = readText(params, 'propertiesTableName');
  const propertiesSqlQuery = readText(params, 'propertiesSqlQuery');
  if (!tilesetTableName) {
    problems.push("Missing parameter 'tilesetTableName': the boundary tileset.");
  }
  if (!propertiesTableName && !propertiesSqlQuery) {
    problems.push(
      "Missing parameter 'propertiesTableName' (a table) or 'propertiesSqlQuery' (a SQL query):" +
        " the boundaries' data.",
    );
  }
  if (propertiesTableName && propertiesSqlQuery) {
    problems.push("Give either 'propertiesTableName' or 'propertiesSqlQuery', not both.");
  }

  const options = { tilesetTableName };
  if (propertiesTableName) options.propertiesTableName = propertiesTableName;
  if (propertiesSqlQuery) {
    options.propertiesSqlQuery = propertiesSqlQuery;
    readQueryParameters(params, options, problems);
  }
  return {
    sourceFunction: propertiesSqlQuery ? 'boundaryQuerySource' : 'boundaryTableSource',
    layer: 'VectorTileLayer',
    options,
    colorBy: readText(params, 'column'),
    repeatWorld: true,
    label: tilesetTableName && `${tilesetTableName} + ${propertiesTableName || propertiesSqlQuery}`,
  };
}

/**
 * The source the page's address names, or the problems with it: `connection`, then what the
 * source type needs. Answers the source function and layer of deck.gl's CARTO module to draw
 * it with, the source function's options as CARTO's clients name them, and the band or column
 * to colour by (rasters and boundaries).
 */
function readSourceRequest(search) {
  const params = new URLSearchParams(search);
  const problems = [];
  const connectionName = readText(params, 'connection');
  if (!connectionName) problems.push("Missing parameter 'connection': the connection's name.");
  const type = sourceTypeOf(params);
  let source = { options: {} };
  if (!SOURCE_TYPES.includes(type)) {
    problems.push(`Unknown 'type' '${type}': use ${SOURCE_TYPES.join(', ')}.`);
  } else {
    if (type === 'raster') source = readRasterSource(params, problems);
    else if (type === 'boundary') source = readBoundarySource(params, problems);
    else source = readVectorSource(params, type, problems);
    problems.push(...unusedParameters(params, type));
  }
  const basemap = params.get('basemap') ?? 'countries';
  if (!['countries', 'none'].includes(basemap)) {
    problems.push(`Unknown 'basemap' '${basemap}': use countries or none.`);
  }

  return {
    problems,
    type,
    ...source,
    options: { connectionName, ...source.options },
    basemap,
  };
}

window.graticulePreview = { ...window.graticulePreview, readSourceRequest };
