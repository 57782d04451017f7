/**
 * Builds a planned tileset: walks the tiles zoom by zoom from the source's bounds, building
 * each with the same code as on-demand tiles, skipping empty ones and everything under a
 * tile that no feature reaches, and writes them into a new table put in place at the end.
 * Spatial-index tilesets take their tiles from spatial-tileset.ts.
 */
import { quoteIdentifier } from '../maps/table-name.js';
import { buildTile } from '../maps/tiles/build-tile.js';
import { describeTileGrid } from '../maps/tiles/tile-grid.js';
import type { TileSource } from '../maps/tiles/tile-query.js';
import type { WarehouseDriver } from '../warehouses/driver.js';
import { writeSpatialTiles } from './spatial-tileset.js';
import { tilesetErrors } from './tileset-errors.js';
import { buildTilesetMetadata, type TilesetScheme } from './tileset-metadata.js';
import type { TilesetOptions } from './tileset-options.js';
import { planTileset, type TilesetLimits, type TilesetPlan } from './tileset-plan.js';
import { DEFAULT_CONCURRENCY, forEachConcurrently, throwIfCancelled } from './tileset-steps.js';
import { TilesetWriter } from './tileset-writer.js';
import {
  childrenWithin,
  descendantCountWithin,
  tilesOf,
  type Bounds,
  type TileAddress,
} from './tile-ranges.js';

export interface TilesetProgress {
  phase: 'tiling' | 'committing' | 'done';
  zoom: number;
  /** Tiles built or skipped (under an empty tile) so far; reaches `tilesEstimated`. */
  tilesDone: number;
  tilesEstimated: number;
  tilesWritten: number;
  bytesWritten: number;
}

export interface TilesetResult {
  tileset: string;
  /** `xyz` for vector tiles; `h3` or `quadbin` for cells, whose zooms are resolutions. */
  scheme: TilesetScheme;
  format: string;
  minzoom: number;
  maxzoom: number;
  tileCount: number;
  bytes: number;
  bounds: Bounds;
  createdAt: string;
}

export interface BuildOptions {
  timeoutMs: number;
  /** Tiles built at once; the embedded warehouse queues them, PostgreSQL runs them in parallel. */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (progress: TilesetProgress) => void;
}

/**
 * Whether any source row's bounding box reaches the buffered tile: the index-friendly test
 * the tile query filters by, without GEOS (which some invalid geometries crash in PGlite).
 * Under a tile without any, nothing is built.
 */
async function hasFeaturesUnder(
  driver: WarehouseDriver,
  plan: TilesetPlan,
  tile: TileAddress,
  options: BuildOptions,
): Promise<boolean> {
  const grid = describeTileGrid(tile.z, tile.x, tile.y, 4096);
  const srid = plan.inspection.srid;
  const params = [...plan.source.queryParameters];
  const float = (value: number) => {
    params.push(value);
    return `$${params.length}::float8`;
  };
  const box = srid === 3857 ? grid.bufferedMercator : grid.bufferedLonLat;
  const corners = [box.minX, box.minY, box.maxX, box.maxY].map(float).join(', ');
  let envelope = `ST_MakeEnvelope(${corners}, ${srid === 3857 ? 3857 : 4326})`;
  if (srid !== 3857 && srid !== 4326) {
    const step = float((box.maxX - box.minX) / 16);
    envelope = `ST_Transform(ST_Segmentize(${envelope}, ${step}), ${srid})`;
  }
  const column = quoteIdentifier(plan.source.spatialDataColumn);
  const { rows } = await driver.query({
    sql: `SELECT EXISTS (
            SELECT 1 FROM ${plan.source.fromSql} WHERE ${column} && ${envelope}
          ) AS "found"`,
    params,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  return rows[0]?.found === true;
}

/** Builds and stores the vector tiles of `plan`, zoom by zoom from its first zoom down. */
async function writeVectorTiles(
  driver: WarehouseDriver,
  plan: TilesetPlan,
  writer: TilesetWriter,
  options: BuildOptions,
  progress: TilesetProgress,
  report: () => void,
): Promise<void> {
  const { inspection, source } = plan;
  const { format, tileResolution, maxFeatures } = plan.options;
  const tileSource: TileSource = {
    fromSql: inspection.fromSql,
    params: inspection.params,
    geomColumn: source.spatialDataColumn,
    properties: inspection.properties,
    srid: inspection.srid,
  };
  let level = tilesOf(plan.ranges[0]!);
  for (let i = 0; i < plan.ranges.length; i += 1) {
    const deeper = plan.ranges.slice(i + 1);
    const next: TileAddress[] = [];
    progress.zoom = plan.ranges[i]!.z;
    await forEachConcurrently(level, options.concurrency ?? DEFAULT_CONCURRENCY, async (tile) => {
      throwIfCancelled(options.signal);
      const built = await buildTile(
        driver,
        tileSource,
        { ...tile, format, tileResolution, maxFeatures },
        { timeoutMs: options.timeoutMs, signal: options.signal },
      );
      if (built.body) await writer.add(tile, built.body);
      const descends =
        deeper[0] !== undefined &&
        (built.body !== null || (await hasFeaturesUnder(driver, plan, tile, options)));
      if (descends) next.push(...childrenWithin(tile, deeper[0]!));
      else progress.tilesDone += descendantCountWithin(tile, deeper);
      progress.tilesDone += 1;
      report();
    });
    level = next;
  }
}

/** Builds every tile of `plan` into a new table and puts it in place under the target name. */
export async function buildTileset(
  driver: WarehouseDriver,
  plan: TilesetPlan,
  options: BuildOptions,
): Promise<TilesetResult> {
  const { inspection, source } = plan;
  const { format, minZoom, maxZoom, maxFeatures } = plan.options;
  const progress: TilesetProgress = {
    phase: 'tiling',
    zoom: minZoom,
    tilesDone: 0,
    tilesEstimated: plan.estimatedTiles,
    tilesWritten: 0,
    bytesWritten: 0,
  };
  const report = (writer: TilesetWriter) => {
    progress.tilesWritten = writer.tilesWritten;
    progress.bytesWritten = writer.bytesWritten;
    options.onProgress?.({ ...progress });
  };

  throwIfCancelled(options.signal);
  const writer = await TilesetWriter.open(driver, plan.target, options.timeoutMs);
  try {
    const writeTiles = inspection.spatialIndex ? writeSpatialTiles : writeVectorTiles;
    await writeTiles(driver, plan, writer, options, progress, () => report(writer));

    throwIfCancelled(options.signal);
    progress.phase = 'committing';
    await writer.flush();
    report(writer);
    const createdAt = new Date();
    const metadata = buildTilesetMetadata({
      source,
      inspection,
      bounds: plan.bounds,
      format,
      minZoom,
      maxZoom,
      maxFeatures,
      tileCount: writer.tilesWritten,
      createdAt,
    });
    await writer.commit(metadata, plan.replacesTileset);
    progress.phase = 'done';
    report(writer);
    return {
      tileset: plan.options.target,
      scheme: metadata.scheme ?? 'xyz',
      format,
      minzoom: minZoom,
      maxzoom: maxZoom,
      tileCount: writer.tilesWritten,
      bytes: writer.bytesWritten,
      bounds: plan.bounds,
      createdAt: metadata.created_at,
    };
  } catch (error) {
    await writer.discard();
    throw options.signal?.aborted ? tilesetErrors.cancelled() : error;
  }
}

/** Plans and builds a tileset in one go (the command line's path). */
export async function createTileset(
  driver: WarehouseDriver,
  connection: string,
  options: TilesetOptions,
  limits: TilesetLimits,
  build: Omit<BuildOptions, 'timeoutMs'> = {},
): Promise<TilesetResult> {
  const plan = await planTileset(driver, connection, options, limits);
  return buildTileset(driver, plan, { ...build, timeoutMs: limits.timeoutMs });
}
