/**
 * The floor under the server's tile figures: the same tile SQL (taken from the build) run on
 * the same data directory in-process, with no HTTP, no worker thread and no queue; encoding is
 * timed on its own so the report can split the server's overhead into its parts.
 */
import { performance } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';
import { encodeCartoBinary } from '../../dist/maps/tiles/carto-binary-encoder.js';
import { encodeMvt } from '../../dist/maps/tiles/mvt-encoder.js';
import { readTileFeatures } from '../../dist/maps/tiles/tile-features.js';
import { tilePropertyOf } from '../../dist/maps/tiles/tile-properties.js';
import { buildTileQuery } from '../../dist/maps/tiles/tile-query.js';
import { PG_TEXT_PARSERS, cartoTypeOf } from '../../dist/warehouses/postgres-types.js';

const TILE_RESOLUTION = 0.5;
const GEOM_COLUMN = 'geom';

const TYPES_BY_OID = `
  SELECT oid::int4 AS "oid", typname AS "typname", typcategory AS "typcategory"
    FROM pg_catalog.pg_type
   WHERE oid = ANY($1::oid[])`;

/** Opens the warehouse the way the server's worker does (same parsers), but in this thread. */
export async function openRawWarehouse(warehouseDir) {
  const startedAt = performance.now();
  const db = await PGlite.create({
    dataDir: warehouseDir,
    extensions: { postgis },
    parsers: { ...PG_TEXT_PARSERS },
  });
  return { db, openMs: performance.now() - startedAt };
}

function quoteIdentifier(name) {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A TileSource for a demo table, its property list read from the table like the server does. */
export async function describeTileSource(db, schema, table) {
  const fromSql = `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
  const { fields } = await db.query(`SELECT * FROM ${fromSql} LIMIT 0`);
  const { rows } = await db.query(TYPES_BY_OID, [fields.map((f) => f.dataTypeID)]);
  const typeOf = new Map(rows.map((row) => [row.oid, row]));
  const properties = fields
    .map((field) => {
      const type = typeOf.get(field.dataTypeID);
      const nativeType = type?.typname ?? 'unknown';
      const cartoType = type ? cartoTypeOf(type) : 'unknown';
      return { name: field.name, nativeType, cartoType };
    })
    .filter((f) => f.name !== GEOM_COLUMN && tilePropertyOf(f) !== null);
  return { fromSql, params: [], geomColumn: GEOM_COLUMN, properties, srid: 4326 };
}

/** Times one tile: the query (WASM plus PGlite's parsing of the one JSON value), then encoding. */
async function timeRawTile(db, source, tile, format, maxFeatures) {
  const request = { ...tile, format, tileResolution: TILE_RESOLUTION, maxFeatures };
  const query = buildTileQuery(source, request);

  const queryStart = performance.now();
  const result = await db.query(query.sql, query.params);
  const sqlMs = performance.now() - queryStart;

  const encodeStart = performance.now();
  const raw = result.rows[0]?.features ?? null;
  const json = typeof raw === 'string' ? JSON.parse(raw) : raw;
  const { grid, properties } = query;
  const { features } = readTileFeatures(json, grid.extent, properties.length, maxFeatures);
  const body =
    format === 'mvt'
      ? encodeMvt(features, properties, grid.extent)
      : encodeCartoBinary(features, properties, grid);
  const encodeMs = performance.now() - encodeStart;
  return { ...tile, sqlMs, encodeMs, featureCount: features.length, bytes: body?.length ?? 0 };
}

/** Times every tile of `tiles` one after another, after one untimed pass over the first. */
export async function timeRawTiles(db, source, tiles, format, maxFeatures) {
  // The z0 tile reads the whole table, so PostgreSQL's buffers start as warm as the server's.
  if (tiles.length > 0) await timeRawTile(db, source, tiles[0], format, maxFeatures);
  const results = [];
  for (const tile of tiles) results.push(await timeRawTile(db, source, tile, format, maxFeatures));
  return results;
}
