/**
 * The PostGIS query for one vector tile. PGlite's PostGIS has no ST_AsMVT, so the query does
 * the geometry work (filter, clip, project, simplify, snap) and returns the whole tile as ONE
 * json value: one row per tile is several times faster there than one row per feature.
 */
import type { WarehouseField } from '../../warehouses/driver.js';
import { BindValues, geometryPlan, indent, type GeometryPlan } from './tile-geometry-sql.js';
import { BINARY_TILE_EXTENT, describeTileGrid, mvtExtentFor, type TileGrid } from './tile-grid.js';
import { propertyValueSql, tilePropertyOf, type TileProperty } from './tile-properties.js';

export type TileFormat = 'mvt' | 'binary';

/** Where a tile's features come from. */
export interface TileSource {
  /** FROM-able SQL: a quoted relation like "demo"."countries", or "(<user sql>\n) AS _src" */
  fromSql: string;
  /** Bind values the fromSql uses as $1..$n (user queryParameters). */
  params: readonly unknown[];
  /** Unquoted name of the geometry column. */
  geomColumn: string;
  /** Columns to carry as properties; types tiles cannot carry are left out. */
  properties: WarehouseField[];
  /** SRID of the geometry column; 4326 when omitted. 0 (unknown) is read as 4326. */
  srid?: number;
}

export interface TileRequest {
  z: number;
  x: number;
  y: number;
  format: TileFormat;
  /** CARTO's resolution hint: the MVT grid is 1024 × tileResolution units per side. */
  tileResolution: number;
  /** Most features a tile carries; the query fetches one more to tell when it cut. */
  maxFeatures: number;
}

export interface TileQuery {
  sql: string;
  params: unknown[];
  grid: TileGrid;
  properties: TileProperty[];
}

/**
 * The tile as ONE json value (one row is several times faster through PGlite than a row per
 * feature), laid out by column, since json_agg over plain values costs far less than a
 * json_build_array per feature: `[xs, ys, shapes, values0, values1, ...]`, every array one
 * entry per feature (or all null when the tile is empty). A point has integer tile x/y and a
 * null shape; any other row has null x/y and GeoJSON in tile units.
 *
 * The inner level is fenced (OFFSET 0 stops PostgreSQL from inlining it into the filter) so
 * each shape is clipped and simplified once. Empty, non-finite and out-of-tile rows go
 * before the LIMIT, so the cap counts real features. GeoJSON is tested as text: after
 * ST_SnapToGrid only a wholly empty geometry prints `[]`, and NaN or Infinity (which would
 * fail the json cast and the tile) are the only capital N or I, as no type name has one.
 */
const tileSql = (p: { plan: GeometryPlan; props: string[]; fromSql: string; limit: string }) => {
  const names = p.props.map((_, i) => `"_p${i}"`);
  const defs = p.props.map((sql, i) => `,\n           ${indent(sql, 11)} AS ${names[i]}`);
  const [px, py] = p.plan.projectPoint('"_x"', '"_y"');
  const aggregates = [`round(${px})::int`, `round(${py})::int`, '"_shape_json"::json', ...names];
  return `
SELECT json_build_array(
         ${aggregates.map((a) => `json_agg(${a})`).join(',\n         ')}
       )::text AS "features"
FROM (
  SELECT *
  FROM (
    SELECT ${indent(p.plan.pointX, 11)} AS "_x",
           ${indent(p.plan.pointY, 11)} AS "_y",
           ST_AsGeoJSON(
             ${indent(p.plan.shape, 13)},
             0,
             0
           ) AS "_shape_json"${defs.join('')}
    FROM ${p.fromSql}
    WHERE ${p.plan.filter}
    OFFSET 0
  ) AS "_clipped"
  WHERE (${p.plan.isPointInTile('"_x"', '"_y"')})
     OR (strpos("_shape_json", '[]') = 0
         AND strpos("_shape_json", 'N') = 0
         AND strpos("_shape_json", 'I') = 0)
  LIMIT ${p.limit}
) AS "_features"`;
};

/**
 * Builds the SQL and bind values for one tile of `source`. `repairGeometries` runs
 * ST_MakeValid before clipping: slower, for the retry after GEOS failed on invalid input.
 */
export function buildTileQuery(
  source: TileSource,
  tile: TileRequest,
  options: { repairGeometries?: boolean } = {},
): TileQuery {
  const mvtExtent = mvtExtentFor(tile.tileResolution);
  const extent = tile.format === 'mvt' ? mvtExtent : BINARY_TILE_EXTENT;
  const grid = describeTileGrid(tile.z, tile.x, tile.y, extent);
  const fields: WarehouseField[] = [];
  const properties: TileProperty[] = [];
  for (const field of source.properties) {
    const property = field.name === source.geomColumn ? null : tilePropertyOf(field);
    if (property === null) continue;
    fields.push(field);
    properties.push(property);
  }

  const bind = new BindValues(source.params);
  const storage = {
    column: source.geomColumn,
    srid: source.srid ?? 4326,
    repair: options.repairGeometries ?? false,
  };
  // Half an MVT grid unit, whatever grid this tile uses, so both formats simplify alike.
  const tolerance = (0.5 * extent) / mvtExtent;
  const plan = geometryPlan(storage, grid, tolerance, bind);
  const limit = bind.int(tile.maxFeatures + 1);
  const sql = tileSql({
    plan,
    props: fields.map(propertyValueSql),
    fromSql: source.fromSql,
    limit,
  });
  return { sql, params: bind.values, grid, properties };
}
