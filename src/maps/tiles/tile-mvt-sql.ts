/**
 * The PostGIS query that builds a whole Mapbox Vector Tile in the database with ST_AsMVT, for
 * warehouses whose PostGIS has it. It keeps what a client sees identical to the tiles Graticule
 * encodes itself: the same rows, property names and values (`propertyValueSql`), layer name,
 * extent, clip buffer and point ownership rules.
 */
import type { WarehouseField } from '../../warehouses/driver.js';
import { quoteIdentifier } from '../table-name.js';
import { MVT_LAYER_NAME } from './mvt-encoder.js';
import { BindValues, indent } from './tile-geometry-sql.js';
import {
  TILE_BUFFER_SHARE,
  describeTileGrid,
  mvtExtentFor,
  type Box,
  type TileGrid,
} from './tile-grid.js';
import { propertyValueSql, tilePropertyOf } from './tile-properties.js';
import type { TileRequest, TileSource } from './tile-query.js';

export interface MvtTileQuery {
  sql: string;
  params: unknown[];
}

/** jsonb_build_object takes at most 100 arguments, so properties go in chunks of 50 pairs. */
const PAIRS_PER_JSONB_CALL = 50;

/** The source's properties, with the same choice and order as the JSON tile query. */
function tileFields(source: TileSource): WarehouseField[] {
  return source.properties.filter(
    (field) => field.name !== source.geomColumn && tilePropertyOf(field) !== null,
  );
}

function bindText(bind: BindValues, value: string): string {
  bind.values.push(value);
  return `$${bind.values.length}::text`;
}

/**
 * All properties of a row as one jsonb value, which ST_AsMVT spreads into feature properties
 * with JSON's own types: a bigint past 2^53 stays an exact string and a float4 keeps its
 * shortest decimal, as in the JSON path, which one typed column per property cannot do.
 * Names are bound values; null values are stripped so a feature has no key for them.
 */
function propertiesSql(fields: WarehouseField[], bind: BindValues): string {
  if (fields.length === 0) return `'{}'::jsonb`;
  const pairs = fields.map((f) => `${bindText(bind, f.name)}, ${propertyValueSql(f)}`);
  const calls: string[] = [];
  for (let i = 0; i < pairs.length; i += PAIRS_PER_JSONB_CALL) {
    const chunk = pairs.slice(i, i + PAIRS_PER_JSONB_CALL);
    calls.push(`jsonb_build_object(\n  ${indent(chunk.join(',\n'), 2)}\n)`);
  }
  return `jsonb_strip_nulls(\n  ${indent(calls.join(' ||\n'), 2)}\n)`;
}

/** How the stored column reaches EPSG:3857, and where its rows and points are tested. */
interface StoragePlan {
  filter: string;
  toMercator: (geom: string) => string;
  /** Stored-unit x/y of a point, and the tile box (without buffer) in the same units. */
  pointXY: (geom: string) => [string, string];
  pointBox: Box;
}

function storagePlan(column: string, srid: number, grid: TileGrid, bind: BindValues): StoragePlan {
  const xy = (g: string): [string, string] => [`ST_X(${g})`, `ST_Y(${g})`];
  if (srid === 3857) {
    return {
      filter: `${column} && ${bind.box(grid.bufferedMercator, 3857)}`,
      toMercator: (g) => `ST_SetSRID(${g}, 3857)`,
      pointXY: xy,
      pointBox: grid.mercator,
    };
  }
  const box = bind.box(grid.bufferedLonLat, 4326);
  if (srid === 4326 || srid === 0) {
    // 0 (unknown) is read as 4326; `&&` compares boxes only, so mixed SRIDs do not fail it.
    return {
      filter: `${column} && ${box}`,
      toMercator: (g) => `ST_Transform(ST_SetSRID(${g}, 4326), 3857)`,
      pointXY: xy,
      pointBox: grid.lonLat,
    };
  }
  // Other projections: the tile outline densified, so curved edges stay inside the filter.
  const step = bind.float((grid.bufferedLonLat.maxX - grid.bufferedLonLat.minX) / 16);
  return {
    filter: `${column} && ST_Transform(ST_Segmentize(${box}, ${step}), ${bind.int(srid)})`,
    toMercator: (g) => `ST_Transform(${g}, 3857)`,
    pointXY: (g) => xy(`ST_Transform(${g}, 4326)`),
    pointBox: grid.lonLat,
  };
}

/**
 * True when a lone point lies in the tile itself. Half-open like the JSON path (west and north
 * edges in, east and south out, the world's last column and row closed), so a point on a shared
 * edge belongs to one tile; NaN fails every comparison and drops the point, which ST_AsMVTGeom
 * would otherwise write as a NaN vertex.
 */
function pointInTileSql(xy: [string, string], box: Box, grid: TileGrid, bind: BindValues): string {
  const [x, y] = xy;
  const [west, east] = [bind.float(box.minX), bind.float(box.maxX)];
  const [south, north] = [bind.float(box.minY), bind.float(box.maxY)];
  return [
    `${x} >= ${west}`,
    `${x} ${grid.isLastColumn ? '<=' : '<'} ${east}`,
    `${y} <= ${north}`,
    `${y} ${grid.isLastRow ? '>=' : '>'} ${south}`,
  ].join('\nAND ');
}

/**
 * A collection becomes its point, line and polygon members (empty ones vanish in the clip), as
 * MVT has no collection type and ST_AsMVTGeom would keep only the highest dimension. A set
 * function in the select list (ProjectSet) rather than a LATERAL function scan, which would
 * fill a tuplestore for every row.
 */
function partsSql(geom: string): string {
  return `unnest(
  CASE
    WHEN ST_GeometryType(${geom}) = 'ST_GeometryCollection' THEN ARRAY[
      ST_CollectionExtract(${geom}, 1),
      ST_CollectionExtract(${geom}, 2),
      ST_CollectionExtract(${geom}, 3)
    ]
    ELSE ARRAY[${geom}]
  END
)`;
}

/** `part` made valid, keeping its dimension; for the retry after GEOS failed on invalid input. */
function repairedPartSql(part: string): string {
  return `CASE
  WHEN ST_Dimension(${part}) = 0 THEN ${part}
  ELSE ST_CollectionExtract(ST_MakeValid(${part}), ST_Dimension(${part}) + 1)
END`;
}

/**
 * The tile in fenced levels (OFFSET 0 keeps PostgreSQL from inlining, so each expression runs
 * once per row): rows in the buffered box with their 2D geometry (Z and M go first, as
 * clipping a part to a point fails on mixed dimensions) and properties; their parts; the parts
 * clipped and projected by ST_AsMVTGeom, keeping those that left something to draw, at most
 * maxFeatures + 1. One aggregate pass then counts them and encodes the first maxFeatures,
 * where a materialized CTE read twice (count, then ST_AsMVT) would store every feature first.
 * Points use no clip buffer: a multipoint keeps only members in the tile, as in the JSON path.
 */
const mvtSql = (p: {
  storage: StoragePlan;
  props: string;
  fromSql: string;
  column: string;
  pointInTile: string;
  part: string;
  tile: { z: string; x: string; y: string; extent: string; buffer: string; layer: string };
  limit: string;
  maxFeatures: string;
}) => `
SELECT count(*)::int AS "feature_count",
       ST_AsMVT("_feature", ${p.tile.layer}, ${p.tile.extent}, '_geom')
         FILTER (WHERE "_n" <= ${p.maxFeatures}) AS "mvt"
FROM (
  SELECT "_feature", row_number() OVER () AS "_n"
  FROM (
    SELECT "_geom", "_props"
    FROM (
      SELECT ST_AsMVTGeom(
               ${indent(p.storage.toMercator(p.part), 15)},
               ST_TileEnvelope(${p.tile.z}, ${p.tile.x}, ${p.tile.y}),
               ${p.tile.extent},
               CASE WHEN ST_Dimension("_tile_part") = 0 THEN 0 ELSE ${p.tile.buffer} END,
               true
             ) AS "_geom",
             "_props"
      FROM (
        SELECT ${indent(partsSql('"_tile_geom"'), 8)} AS "_tile_part",
               "_props"
        FROM (
          SELECT ST_Force2D(${p.column}) AS "_tile_geom",
                 ${indent(p.props, 17)} AS "_props"
          FROM ${p.fromSql}
          WHERE ${p.storage.filter}
          OFFSET 0
        ) AS "_rows"
        OFFSET 0
      ) AS "_parts"
      WHERE CASE
              WHEN ST_GeometryType("_tile_part") = 'ST_Point' THEN
                ${indent(p.pointInTile, 16)}
              ELSE true
            END
      OFFSET 0
    ) AS "_clipped"
    WHERE "_geom" IS NOT NULL
    LIMIT ${p.limit}
  ) AS "_feature"
) AS "_numbered"`;

/**
 * Builds the SQL and bind values that return one row: `feature_count` (up to maxFeatures + 1,
 * so a count above the cap means the tile was cut) and `mvt`, the tile's bytes. The layer name
 * and extent are those of the JS encoder for `tile.tileResolution`.
 */
export function buildMvtTileQuery(
  source: TileSource,
  tile: TileRequest,
  options: { repairGeometries?: boolean } = {},
): MvtTileQuery {
  const extent = mvtExtentFor(tile.tileResolution);
  const grid = describeTileGrid(tile.z, tile.x, tile.y, extent);
  const bind = new BindValues(source.params);
  const column = quoteIdentifier(source.geomColumn);
  const storage = storagePlan(column, source.srid ?? 4326, grid, bind);
  const part = options.repairGeometries ? repairedPartSql('"_tile_part"') : '"_tile_part"';
  const pointInTile = pointInTileSql(storage.pointXY('"_tile_part"'), storage.pointBox, grid, bind);

  const sql = mvtSql({
    storage,
    props: propertiesSql(tileFields(source), bind),
    fromSql: source.fromSql,
    column,
    pointInTile,
    part,
    tile: {
      z: bind.int(tile.z),
      x: bind.int(tile.x),
      y: bind.int(tile.y),
      extent: bind.int(extent),
      buffer: bind.int(Math.round(extent * TILE_BUFFER_SHARE)),
      layer: bindText(bind, MVT_LAYER_NAME),
    },
    limit: bind.int(tile.maxFeatures + 1),
    maxFeatures: bind.int(tile.maxFeatures),
  });
  return { sql, params: bind.values };
}
