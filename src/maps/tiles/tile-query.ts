/**
 * The PostGIS query for one vector tile. PGlite's PostGIS has no ST_AsMVT, so the query does
 * the geometry work (filter, clip, project, simplify, snap) and returns the whole tile as ONE
 * json value: one row per tile is several times faster there than one row per feature.
 */
import type { WarehouseField } from '../../warehouses/driver.js';
import { quoteIdentifier } from '../table-name.js';
import {
  BINARY_TILE_EXTENT,
  MERCATOR_RADIUS,
  describeTileGrid,
  mvtExtentFor,
  type Box,
  type TileGrid,
} from './tile-grid.js';
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

/** Collects bind values after the source's own, each used through a typed placeholder. */
class BindValues {
  readonly values: unknown[];

  constructor(sourceParams: readonly unknown[]) {
    this.values = [...sourceParams];
  }

  float(value: number): string {
    if (!Number.isFinite(value)) throw new RangeError(`Tile parameter is not finite: ${value}`);
    this.values.push(value);
    return `$${this.values.length}::float8`;
  }

  int(value: number): string {
    this.values.push(value);
    return `$${this.values.length}::int`;
  }

  box(box: Box, srid: number): string {
    const corners = [box.minX, box.minY, box.maxX, box.maxY].map((v) => this.float(v));
    return `ST_MakeEnvelope(${corners.join(', ')}, ${srid})`;
  }
}

/** SQL pieces that depend on how the geometry column is stored. */
interface GeometryPlan {
  /** Index-friendly bounding-box test on the stored column. */
  filter: string;
  /** Stored x and y of a point row (NULL for other rows): WGS84, or metres for EPSG:3857. */
  pointX: string;
  pointY: string;
  /** Tile-space geometry of a line, polygon or collection row (NULL for points). */
  shape: string;
  /** Half-open test that a point's stored x/y lies in the tile. */
  isPointInTile: (x: string, y: string) => string;
  /** Tile-space integer x and y of a point from its stored x/y. */
  projectPoint: (x: string, y: string) => [string, string];
}

/** Re-indents a multi-line SQL fragment so it reads in place inside a template. */
function indent(sql: string, spaces: number): string {
  return sql.replaceAll('\n', `\n${' '.repeat(spaces)}`);
}

/**
 * Half-open bounds (west and north edges in, east and south out) give a point on a shared
 * edge to exactly one tile, since neighbours compute that edge identically; the world's east
 * and south edges stay in.
 */
function pointInBoxSql(bounds: Box, grid: TileGrid, bind: BindValues) {
  const [west, east] = [bind.float(bounds.minX), bind.float(bounds.maxX)];
  const [south, north] = [bind.float(bounds.minY), bind.float(bounds.maxY)];
  return (x: string, y: string) =>
    `${x} >= ${west} AND ${x} ${grid.isLastColumn ? '<=' : '<'} ${east}` +
    ` AND ${y} <= ${north} AND ${y} ${grid.isLastRow ? '>=' : '>'} ${south}`;
}

/**
 * Lines and polygons: clip with a buffer (before projecting, so vertices beyond the Mercator
 * latitude limit never reach ST_Transform), project, map into tile space with y down,
 * simplify and snap to whole units. Z and M go first: PostGIS fails to collect clipped parts
 * of mixed dimension. ST_Simplify runs in liblwgeom; ST_SimplifyPreserveTopology goes through
 * GEOS and made polygon tiles several times slower. preserveCollapsed keeps small rings for
 * the snap to judge, so holes of a pixel or more survive.
 */
function shapeSql(
  geom: string,
  clipBox: string,
  toMercator: (g: string) => string,
  grid: TileGrid,
  tolerance: string,
  bind: BindValues,
): string {
  const k = grid.unitsPerMetre;
  const { minX, maxY } = grid.mercator;
  const affine = [bind.float(k), '0', '0', bind.float(-k)];
  const offsets = [bind.float(-minX * k), bind.float(maxY * k)];
  return `CASE
  WHEN ST_GeometryType(${geom}) <> 'ST_Point' THEN
    ST_SnapToGrid(
      ST_Simplify(
        ST_Affine(
          ${toMercator(`ST_ClipByBox2D(ST_Force2D(${geom}), ${clipBox})`)},
          ${affine.join(', ')}, ${offsets.join(', ')}
        ),
        ${tolerance},
        true
      ),
      1
    )
END`;
}

function pointCoordinateSql(geom: string, axis: 'X' | 'Y'): string {
  return `CASE WHEN ST_GeometryType(${geom}) = 'ST_Point' THEN ST_${axis}(${geom}) END`;
}

function geometryPlan(
  source: TileSource,
  grid: TileGrid,
  tolerance: number,
  bind: BindValues,
): GeometryPlan {
  const column = quoteIdentifier(source.geomColumn);
  const srid = source.srid ?? 4326;
  const k = grid.unitsPerMetre;
  const tol = bind.float(tolerance);
  const [xOffset, yOffset] = [
    bind.float(-grid.mercator.minX * k),
    bind.float(grid.mercator.maxY * k),
  ];
  if (srid === 3857) {
    const box = bind.box(grid.bufferedMercator, 3857);
    const scale = bind.float(k);
    return {
      filter: `${column} && ${box}`,
      pointX: pointCoordinateSql(column, 'X'),
      pointY: pointCoordinateSql(column, 'Y'),
      shape: shapeSql(column, box, (g) => g, grid, tol, bind),
      isPointInTile: pointInBoxSql(grid.mercator, grid, bind),
      projectPoint: (x, y) => [`${x} * ${scale} + ${xOffset}`, `${yOffset} - ${y} * ${scale}`],
    };
  }
  // Longitude maps linearly; latitude through the Mercator formula, which is cheaper per
  // point than a PROJ call through ST_Transform.
  const [lonScale, latScale] = [
    bind.float((k * MERCATOR_RADIUS * Math.PI) / 180),
    bind.float(k * MERCATOR_RADIUS),
  ];
  const projectPoint = (x: string, y: string): [string, string] => [
    `${x} * ${lonScale} + ${xOffset}`,
    `${yOffset} - ${latScale} * ln(tan(pi() / 4 + radians(${y}) / 2))`,
  ];
  const box = bind.box(grid.bufferedLonLat, 4326);
  const toMercator = (g: string) => `ST_Transform(ST_SetSRID(${g}, 4326), 3857)`;
  const isPointInTile = pointInBoxSql(grid.lonLat, grid, bind);
  if (srid === 4326 || srid === 0) {
    return {
      filter: `${column} && ${box}`,
      pointX: pointCoordinateSql(column, 'X'),
      pointY: pointCoordinateSql(column, 'Y'),
      shape: shapeSql(column, box, toMercator, grid, tol, bind),
      isPointInTile,
      projectPoint,
    };
  }
  // Other projections: filter by the tile outline in the stored SRID (densified so curved
  // edges stay inside the box), then work in WGS84.
  const lonLat = `ST_Transform(${column}, 4326)`;
  const step = bind.float((grid.bufferedLonLat.maxX - grid.bufferedLonLat.minX) / 16);
  return {
    filter: `${column} && ST_Transform(ST_Segmentize(${box}, ${step}), ${bind.int(srid)})`,
    pointX: pointCoordinateSql(lonLat, 'X'),
    pointY: pointCoordinateSql(lonLat, 'Y'),
    shape: shapeSql(lonLat, box, toMercator, grid, tol, bind),
    isPointInTile,
    projectPoint,
  };
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
       ) AS "features"
FROM (
  SELECT *
  FROM (
    SELECT ${indent(p.plan.pointX, 11)} AS "_x",
           ${indent(p.plan.pointY, 11)} AS "_y",
           ST_AsGeoJSON(
             ${indent(p.plan.shape, 13)},
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

/** Builds the SQL and bind values for one tile of `source`. */
export function buildTileQuery(source: TileSource, tile: TileRequest): TileQuery {
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
  // Half an MVT grid unit, whatever grid this tile uses, so both formats simplify alike.
  const plan = geometryPlan(source, grid, (0.5 * extent) / mvtExtent, bind);
  const limit = bind.int(tile.maxFeatures + 1);
  const sql = tileSql({
    plan,
    props: fields.map(propertyValueSql),
    fromSql: source.fromSql,
    limit,
  });
  return { sql, params: bind.values, grid, properties };
}
