/**
 * The row path's query: one row per feature whose geometry meets the tile's buffered lon/lat box,
 * with its geometry as WKB and its raw property columns. Graticule clips, projects and encodes
 * in Node. The SQL keeps to spatial functions Amazon Redshift has (ST_Intersects,
 * ST_MakeEnvelope, ST_Transform, ST_AsBinary), which PostGIS has too, so the same text is tested
 * against PostgreSQL.
 */
import { quoteIdentifier } from '../table-name.js';
import {
  BINARY_TILE_EXTENT,
  describeTileGrid,
  mvtExtentFor,
  type Box,
  type TileGrid,
} from './tile-grid.js';
import { tilePropertyOf, type TileProperty } from './tile-properties.js';
import type { TileRequest, TileSource } from './tile-query.js';

export interface RowTileQuery {
  sql: string;
  params: unknown[];
  grid: TileGrid;
  /** The MVT grid of the request's resolution; it sets the simplification tolerance. */
  mvtExtent: number;
  properties: TileProperty[];
}

/** Result column names: lower case, as Redshift folds even quoted names by default. */
export const WKB_COLUMN = '_wkb';
export const propertyColumn = (index: number): string => `_p${index}`;

/** What the row query needs, already quoted and with bind markers placed. */
export interface RowTileSqlSpec {
  fromSql: string;
  /** Quoted geometry column. */
  column: string;
  /** SRID of the column; 0 (unknown) is read as 4326. */
  srid: number;
  /** Bind markers of the box's west, south, east and north edges, in degrees. */
  box: [string, string, string, string];
  /** Quoted property columns, in tile property order. */
  properties: string[];
  /** Rows to read at most: the feature cap plus one, to tell when the tile was cut. */
  limit: number;
  /** Test each row's bounding box instead of its shape: the retry after invalid input failed. */
  compareEnvelopes: boolean;
}

/**
 * Redshift's spelling of the row query, over PostgreSQL's wire protocol (`$n` markers).
 *
 * Geometry leaves as `ST_AsBinary` (VARBYTE, up to 1 MB) rather than `ST_AsHexWKB` or
 * `ST_AsGeoJSON`: Redshift caps VARCHAR results at 64 KB, which a detailed polygon's hex or
 * GeoJSON exceeds, and binary is half the bytes of hex on the wire. The envelope carries the
 * column's SRID, since ST_Intersects refuses mixed SRIDs: 4326, or none for SRID 0. Other SRIDs
 * are transformed to WGS84 per row; Redshift has no spatial index for a stored-SRID box to use.
 * The LIMIT is a literal: Redshift documents it as a number, and the cap is a server setting,
 * not a user value, so the statement text stays the same for every tile and compiles once.
 */
export function redshiftRowTileSql(spec: RowTileSqlSpec): string {
  const isLonLat = spec.srid === 4326 || spec.srid === 0;
  const geometry = isLonLat ? spec.column : `ST_Transform(${spec.column}, 4326)`;
  const corners = spec.box.map((marker) => `CAST(${marker} AS DOUBLE PRECISION)`);
  const envelopeArguments = spec.srid === 0 ? corners : [...corners, '4326'];
  const tested = spec.compareEnvelopes ? `ST_Envelope(${geometry})` : geometry;
  const columns = [
    `ST_AsBinary(${geometry}) AS "${WKB_COLUMN}"`,
    ...spec.properties.map((column, i) => `${column} AS "${propertyColumn(i)}"`),
  ];
  return `
SELECT ${columns.join(',\n       ')}
FROM ${spec.fromSql}
WHERE ST_Intersects(
        ${tested},
        ST_MakeEnvelope(
          ${envelopeArguments.join(',\n          ')}
        )
      )
LIMIT ${spec.limit}`;
}

function assertFeatureCap(maxFeatures: number): void {
  if (!Number.isSafeInteger(maxFeatures) || maxFeatures < 0) {
    throw new RangeError(`The tile feature cap must be a whole number: ${maxFeatures}`);
  }
}

/**
 * Builds the row query for tile z/x/y of `source`. The box is the tile plus its clip buffer,
 * clamped to the Web Mercator world, so lines and polygons just outside still shape the
 * buffer; lone points outside the tile itself are dropped in Node.
 */
export function buildRowTileQuery(
  source: TileSource,
  tile: TileRequest,
  options: { compareEnvelopes?: boolean } = {},
): RowTileQuery {
  assertFeatureCap(tile.maxFeatures);
  const mvtExtent = mvtExtentFor(tile.tileResolution);
  const extent = tile.format === 'mvt' ? mvtExtent : BINARY_TILE_EXTENT;
  const grid = describeTileGrid(tile.z, tile.x, tile.y, extent);
  const fields = source.properties.filter(
    (field) => field.name !== source.geomColumn && tilePropertyOf(field) !== null,
  );

  const params = [...source.params];
  const box: Box = grid.bufferedLonLat;
  const markers = [box.minX, box.minY, box.maxX, box.maxY].map((value) => {
    params.push(value);
    return `$${params.length}`;
  });
  const sql = redshiftRowTileSql({
    fromSql: source.fromSql,
    column: quoteIdentifier(source.geomColumn),
    srid: source.srid ?? 4326,
    box: markers as RowTileSqlSpec['box'],
    properties: fields.map((field) => quoteIdentifier(field.name)),
    limit: tile.maxFeatures + 1,
    compareEnvelopes: options.compareEnvelopes ?? false,
  });
  const properties = fields.map((field) => tilePropertyOf(field)!);
  return { sql, params, grid, mvtExtent, properties };
}
