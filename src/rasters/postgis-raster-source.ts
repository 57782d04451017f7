/**
 * A PostGIS raster table (a `raster` column, `postgis_raster` installed) as the pixel sampler
 * of a raster build: each pixel of a quadbin-aligned EPSG:3857 block takes the source's value
 * at the pixel's centre (`ST_Value`, nearest neighbour), found through the source's tiles
 * (`ST_Intersects`, which a GiST index on `ST_ConvexHull(rast)` serves). Reprojection is
 * exactly that: each centre transformed to the source's SRID.
 */
import { quoteIdentifier, quoteTableName, type TableName } from '../maps/table-name.js';
import type { WarehouseDriver } from '../warehouses/driver.js';
import type { WritableBandType } from './band-values.js';
import type { BandSpec } from './raster-build.js';
import { rasterErrors } from './raster-errors.js';
import {
  MERCATOR_HALF_WORLD,
  pixelSizeMeters,
  type BlockAddress,
  type Bounds,
} from './raster-grid.js';

/** PostGIS pixel types as raster band types. */
const PIXEL_TYPES: Record<string, WritableBandType> = {
  '1BB': 'uint8',
  '2BUI': 'uint8',
  '4BUI': 'uint8',
  '8BSI': 'int8',
  '8BUI': 'uint8',
  '16BSI': 'int16',
  '16BUI': 'uint16',
  '32BSI': 'int32',
  '32BUI': 'uint32',
  '32BF': 'float32',
  '64BF': 'float64',
};

/** What a band without a declared nodata gets, as raster-loader chooses per type. */
const DEFAULT_NODATA: Record<WritableBandType, number> = {
  uint8: 255,
  int8: -128,
  uint16: 65535,
  int16: -32768,
  uint32: 4294967295,
  int32: -2147483648,
  float32: Number.NaN,
  float64: Number.NaN,
};

const HAS_RASTER_TYPE_SQL = `SELECT to_regtype('raster') IS NOT NULL AS "present"`;

/** The source's SRID, extent in WGS84, pixel size in EPSG:3857 metres and its bands. */
const INSPECT_SQL = (table: string, column: string) => `
  WITH tiles AS (
    SELECT ${column} AS rast FROM ${table} WHERE ${column} IS NOT NULL
  ), first AS (
    SELECT rast FROM tiles LIMIT 1
  )
  SELECT (SELECT ST_SRID(rast) FROM first) AS "srid",
         (SELECT ST_NumBands(rast) FROM first) AS "bands",
         (SELECT count(*) FROM tiles)::int8 AS "tiles",
         (SELECT count(DISTINCT ST_SRID(rast)) FROM tiles)::int4 AS "srids",
         (SELECT ST_XMin(e) FROM (SELECT ST_Extent(ST_Transform(ST_Envelope(rast), 4326)) AS e
                                    FROM tiles) AS x) AS "west",
         (SELECT ST_YMin(e) FROM (SELECT ST_Extent(ST_Transform(ST_Envelope(rast), 4326)) AS e
                                    FROM tiles) AS x) AS "south",
         (SELECT ST_XMax(e) FROM (SELECT ST_Extent(ST_Transform(ST_Envelope(rast), 4326)) AS e
                                    FROM tiles) AS x) AS "east",
         (SELECT ST_YMax(e) FROM (SELECT ST_Extent(ST_Transform(ST_Envelope(rast), 4326)) AS e
                                    FROM tiles) AS x) AS "north",
         (SELECT least(
                   (ST_XMax(m) - ST_XMin(m)) / ST_Width(rast),
                   (ST_YMax(m) - ST_YMin(m)) / ST_Height(rast))::float8
            FROM (SELECT rast, ST_Transform(ST_Envelope(rast), 3857)::box2d AS m FROM first) AS x
         ) AS "pixel_meters"`;

const BAND_SQL = (table: string, column: string) => `
  SELECT ST_BandPixelType(${column}, $1::int) AS "type",
         ST_BandNoDataValue(${column}, $1::int)::float8 AS "nodata"
    FROM ${table} WHERE ${column} IS NOT NULL LIMIT 1`;

export interface PostgisRasterSource {
  srid: number;
  bounds: Bounds;
  /** The source's pixel size, in EPSG:3857 metres (the smaller side). */
  pixelMeters: number;
  bands: BandSpec[];
  sampleBlock: (block: BlockAddress) => Promise<Float64Array[]>;
}

/** Reads what a build needs of `table`'s raster `column`; 400 when it cannot be read so. */
export async function openPostgisRaster(
  driver: WarehouseDriver,
  table: TableName,
  column: string,
  options: { blockSize: number; timeoutMs: number },
): Promise<PostgisRasterSource> {
  const { timeoutMs, blockSize } = options;
  const display = quoteTableName(table);
  const run = async (sql: string, params?: unknown[]) =>
    (await driver.query({ sql, params, timeoutMs })).rows;

  const [type] = await run(HAS_RASTER_TYPE_SQL);
  if (type?.present !== true) {
    throw rasterErrors.sourceNotFound(display, 'this database has no PostGIS raster support');
  }
  const sqlTable = quoteTableName(table);
  const sqlColumn = quoteIdentifier(column);
  const [info] = await run(INSPECT_SQL(sqlTable, sqlColumn));
  if (!info || info.srid === null || Number(info.tiles) === 0) {
    throw rasterErrors.sourceNotFound(display, `no rasters in column ${column}`);
  }
  if (Number(info.srids) !== 1) {
    throw rasterErrors.sourceNotFound(display, 'its rasters have different SRIDs');
  }
  const bands: BandSpec[] = [];
  for (let n = 1; n <= Number(info.bands); n += 1) {
    const [band] = await run(BAND_SQL(sqlTable, sqlColumn), [n]);
    const bandType = PIXEL_TYPES[String(band?.type)];
    if (!bandType) throw rasterErrors.sourceNotFound(display, `band ${n} has an unknown type`);
    const nodata = band?.nodata === null ? DEFAULT_NODATA[bandType] : Number(band?.nodata);
    bands.push({ name: `band_${n}`, type: bandType, nodata });
  }
  const srid = Number(info.srid);
  const bounds: Bounds = [info.west, info.south, info.east, info.north].map(Number) as Bounds;
  if (bounds[0] < -180 || bounds[2] > 180) {
    // Blocks are cut on one world's width: the part beyond 180° would be left out unseen.
    throw rasterErrors.sourceNotFound(
      display,
      `it crosses the antimeridian (longitudes ${bounds[0]} to ${bounds[2]}), which rasters ` +
        'cannot yet: split it at 180°',
    );
  }
  const sampleSql = sampleBlockSql(sqlTable, sqlColumn, bands.length);
  return {
    srid,
    bounds,
    pixelMeters: Number(info.pixel_meters),
    bands,
    sampleBlock: async (block) => {
      const size = pixelSizeMeters(block.z, blockSize);
      const west = -MERCATOR_HALF_WORLD + block.x * blockSize * size;
      const north = MERCATOR_HALF_WORLD - block.y * blockSize * size;
      const [row] = await run(sampleSql, [west, north, blockSize, size, srid]);
      return bands.map((_, b) => parseValues(row?.[`b${b + 1}`], blockSize * blockSize));
    },
  };
}

/**
 * One statement per block: the block's pixel centres in EPSG:3857, transformed to the
 * source's SRID, each matched with the first source tile holding it. A block the source does
 * not reach answers NULL at once.
 */
function sampleBlockSql(table: string, column: string, bandCount: number): string {
  const values = Array.from({ length: bandCount }, (_, b) => b + 1);
  const sampled = values.map((n) => `ST_Value(t.rast, ${n}, p.geom) AS "v${n}"`).join(', ');
  const joined = values
    .map((n) => `string_agg(coalesce(v."v${n}"::text, 'N'), ',' ORDER BY p.i) AS "b${n}"`)
    .join(', ');
  return `
    WITH box AS (
      SELECT ST_Transform(ST_MakeEnvelope($1::float8, $2::float8 - $3::int * $4::float8,
                                          $1::float8 + $3::int * $4::float8, $2::float8, 3857),
                          $5::int) AS geom
    ), reached AS (
      SELECT EXISTS (SELECT 1 FROM ${table}, box WHERE ST_Intersects(${column}, box.geom)) AS yes
    ), p AS (
      SELECT i, ST_Transform(ST_SetSRID(ST_MakePoint(
               $1::float8 + ((i % $3::int) + 0.5) * $4::float8,
               $2::float8 - ((i / $3::int) + 0.5) * $4::float8), 3857), $5::int) AS geom
        FROM generate_series(0, $3::int * $3::int - 1) AS i, reached
       WHERE reached.yes
    )
    SELECT ${joined}
      FROM p
      LEFT JOIN LATERAL (
        SELECT ${sampled}
          FROM (SELECT ${column} AS rast FROM ${table}
                 WHERE ST_Intersects(${column}, p.geom) LIMIT 1) AS t
      ) AS v ON true`;
}

/** `'1.5,N,...'` as numbers (N: no value) ; all NaN when the block was not reached. */
function parseValues(text: unknown, count: number): Float64Array {
  const values = new Float64Array(count).fill(Number.NaN);
  if (typeof text !== 'string' || text === '') return values;
  const parts = text.split(',');
  for (let i = 0; i < parts.length && i < count; i += 1) {
    if (parts[i] !== 'N') values[i] = Number(parts[i]);
  }
  return values;
}
