/**
 * The statements Graticule sends for tiles, written by its own compiled builders in dist/, so
 * the raw-PostgreSQL baselines run exactly the server's SQL: the native MVT query (ST_AsMVT),
 * the JSON tile query behind binary tiles with the encoder that turns its answer into a tile,
 * and the GROUP BY of a spatial-index (H3 or quadbin) tile.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MAIN_JS } from './server.mjs';

const DIST = path.dirname(MAIN_JS);
const load = (relative) => import(pathToFileURL(path.join(DIST, relative)).href);

/**
 * The points table's columns as Graticule's inspection describes them, plus the feature id it
 * adds to every tile (a hash of the geometry).
 */
const POINT_FIELDS = [
  { name: 'cartodb_id', nativeType: 'int8', cartoType: 'bigint' },
  { name: 'the_geom', nativeType: 'geometry', cartoType: 'geometry' },
  { name: 'name', nativeType: 'text', cartoType: 'string' },
  { name: 'category', nativeType: 'int4', cartoType: 'number' },
  { name: 'value', nativeType: 'float8', cartoType: 'number' },
  { name: '_carto_feature_id', nativeType: 'text', cartoType: 'string' },
];

const POINTS_SOURCE = {
  fromSql:
    '(SELECT *, md5(ST_AsBinary("the_geom")) AS "_carto_feature_id" FROM "points") ' +
    'AS "_features"',
  params: [],
  geomColumn: 'the_geom',
  properties: POINT_FIELDS,
  srid: 4326,
};

/**
 * Builders of the points table's tile statements: `mvt(tile)` the native MVT query, `json(tile,
 * format)` the JSON tile query with its grid and properties, and `encode` (the encoder the
 * server runs on that query's answer). Throws when the compiled modules are missing or changed.
 */
export async function loadPointTileBuilders({ tileResolution, maxFeatures }) {
  const { buildMvtTileQuery } = await load('maps/tiles/tile-mvt-sql.js');
  const { buildTileQuery } = await load('maps/tiles/tile-query.js');
  const { encodeTile } = await load('maps/tiles/encode-tile.js');
  const request = (tile, format) => ({ ...tile, format, tileResolution, maxFeatures });
  const builders = {
    mvt: (tile) => buildMvtTileQuery(POINTS_SOURCE, request(tile, 'mvt')),
    json: (tile, format) => buildTileQuery(POINTS_SOURCE, request(tile, format)),
    encode: (json, query, format) =>
      encodeTile({
        json,
        format,
        grid: query.grid,
        properties: query.properties,
        maxFeatures,
      }),
  };
  builders.mvt({ z: 0, x: 0, y: 0 });
  builders.json({ z: 0, x: 0, y: 0 }, 'binary');
  return builders;
}

/**
 * `sql(cell, z)`: the statement the server runs for the spatial-index tile `cell` (a bigint of
 * resolution `z`) of `table`, captured from the compiled `buildSpatialTile` with a driver that
 * records the statement instead of running it. `type` is 'h3' or 'quadbin'.
 */
export async function loadSpatialTileBuilder({ type, table, aggregationExp, resLevel, maxCells }) {
  const { buildSpatialTile } = await load('maps/spatial-index/spatial-source.js');
  const { checkedSelectListText } = await load('widgets/expression.js');
  const { parseTableName, quoteTableName } = await load('maps/table-name.js');
  const inspection = {
    type,
    scheme: type,
    resolution: table.resolution,
    fromSql: quoteTableName(parseTableName(table.name)),
    params: [],
    selectList: checkedSelectListText(aggregationExp, 'aggregationExp'),
    columns: [],
  };
  const source = { spatialDataColumn: table.column };
  const sql = async (cell, z) => {
    let captured;
    const recorder = {
      query: async (statement) => {
        captured = statement;
        return { rows: [], fields: [] };
      },
    };
    const request = { cell, z, aggregationResLevel: resLevel, maxCells };
    await buildSpatialTile(recorder, inspection, source, request, { timeoutMs: 60_000 });
    if (!captured) throw new Error(`no statement for ${type} cell ${cell.toString(16)}`);
    return { sql: captured.sql, params: captured.params };
  };
  return { sql };
}
