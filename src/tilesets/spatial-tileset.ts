/**
 * Spatial-index tilesets: every tile of an h3 or quadbin source, built with the on-demand
 * spatial tile code (`buildSpatialTile`), so a stored tile equals the on-demand tile of the
 * same source. Tiles are cells too: at each tile resolution, the non-empty tiles are exactly
 * the distinct ancestors of the source's cells, which the warehouse lists and counts.
 *
 * In the tileset table a quadbin tile sits at its Web Mercator `z/x/y` (a quadbin cell is
 * that tile); an H3 tile at `z` = its resolution, `x` = the upper 32 bits of its index and
 * `y` = the lower 32 bits read as a signed integer, so the primary key finds both.
 */
import { cellToTile } from 'quadbin';
import { errors } from '../http/errors.js';
import type { SourceDefinition } from '../maps/source-definition.js';
import {
  ancestorSql,
  cellAsBigintSql,
  resolutionOf,
  type CellScheme,
} from '../maps/spatial-index/cells.js';
import {
  buildSpatialTile,
  type SpatialIndexInspection,
} from '../maps/spatial-index/spatial-source.js';
import { quoteIdentifier } from '../maps/table-name.js';
import type { WarehouseDriver } from '../warehouses/driver.js';
import type { BuildOptions, TilesetProgress } from './create-tileset.js';
import { tilesetErrors } from './tileset-errors.js';
import { MAX_TILESET_ZOOM, type TilesetOptions } from './tileset-options.js';
import type { TilesetLimits, TilesetPlan } from './tileset-plan.js';
import { DEFAULT_CONCURRENCY, forEachConcurrently, throwIfCancelled } from './tileset-steps.js';
import type { TilesetWriter } from './tileset-writer.js';
import type { TileAddress } from './tile-ranges.js';

/** Where the tile of `cell` is stored in a tileset table. */
export function cellTileAddress(scheme: CellScheme, cell: bigint): TileAddress {
  if (scheme === 'quadbin') return cellToTile(cell);
  return {
    z: Number((cell >> 52n) & 15n),
    x: Number(cell >> 32n),
    y: Number(BigInt.asIntN(32, cell)),
  };
}

/** The source's cells as bigint SQL, and the FROM clause keeping rows that have one. */
function cellsOf(spatialIndex: SpatialIndexInspection, source: SourceDefinition) {
  const column = quoteIdentifier(source.spatialDataColumn);
  return {
    cell: cellAsBigintSql(spatialIndex.type, column),
    from: `${spatialIndex.fromSql} WHERE ${column} IS NOT NULL`,
  };
}

const COUNT_TILES_SQL = (counts: string[], from: string) => `
  SELECT ${counts.join(',\n         ')}
  FROM ${from}`;

const LIST_TILES_SQL = (ancestor: string, from: string) => `
  SELECT DISTINCT ${ancestor}::text AS "cell"
  FROM ${from}`;

/** How many tiles each resolution from `from` to `to` holds (distinct ancestors of cells). */
async function countTiles(
  driver: WarehouseDriver,
  spatialIndex: SpatialIndexInspection,
  source: SourceDefinition,
  range: { from: number; to: number },
  timeoutMs: number,
): Promise<number[]> {
  const { cell, from } = cellsOf(spatialIndex, source);
  const counts: string[] = [];
  for (let r = range.from; r <= range.to; r += 1) {
    counts.push(`count(DISTINCT ${ancestorSql(spatialIndex.scheme, cell, r)})::float8 AS "r${r}"`);
  }
  const { rows } = await driver.query({
    sql: COUNT_TILES_SQL(counts, from),
    params: spatialIndex.params,
    timeoutMs,
    readOnly: true,
  });
  return counts.map((_, i) => Number(rows[0]?.[`r${range.from + i}`] ?? 0));
}

/**
 * The tile resolutions of a spatial-index tileset and its exact tile count. Without
 * `maxZoom`, tiles go down to where their cells reach the source's own resolution (as the
 * on-demand TileJSON's `maxresolution`), or less when the tile limit says so.
 */
export async function planSpatialResolutions(
  driver: WarehouseDriver,
  source: SourceDefinition,
  spatialIndex: SpatialIndexInspection,
  options: TilesetOptions,
  limits: TilesetLimits,
): Promise<{ maxZoom: number; estimatedTiles: number }> {
  const { minZoom } = options;
  const data = spatialIndex.resolution;
  for (const [name, zoom] of [
    ['minZoom', minZoom],
    ['maxZoom', options.maxZoom],
  ] as const) {
    if (zoom !== null && zoom > data) {
      throw errors.invalidParameter(
        name,
        `the source's cells are resolution ${data}; no tile is deeper than its cells`,
      );
    }
  }
  const natural = Math.min(MAX_TILESET_ZOOM, data - source.aggregationResLevel);
  const deepest = options.maxZoom ?? Math.max(minZoom, natural);
  const counts = await countTiles(
    driver,
    spatialIndex,
    source,
    { from: minZoom, to: deepest },
    limits.timeoutMs,
  );

  let maxZoom = deepest;
  if (options.maxZoom === null) {
    let total = 0;
    const over = counts.findIndex((count) => (total += count) > limits.maxTiles);
    if (over >= 0) maxZoom = minZoom + Math.max(0, over - 1);
  }
  const estimatedTiles = counts.slice(0, maxZoom - minZoom + 1).reduce((a, b) => a + b, 0);
  if (estimatedTiles > limits.maxTiles) {
    throw tilesetErrors.tooManyTiles(estimatedTiles, limits.maxTiles);
  }
  return { maxZoom, estimatedTiles };
}

/** The tiles of resolution `r` that hold cells: the distinct ancestors of the source's cells. */
async function listTileCells(
  driver: WarehouseDriver,
  spatialIndex: SpatialIndexInspection,
  source: SourceDefinition,
  r: number,
  options: BuildOptions,
): Promise<{ cells: bigint[]; skipped: number }> {
  const { cell, from } = cellsOf(spatialIndex, source);
  const { rows } = await driver.query({
    sql: LIST_TILES_SQL(ancestorSql(spatialIndex.scheme, cell, r), from),
    params: spatialIndex.params,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    readOnly: true,
  });
  const all = rows.map((row) => BigInt(String(row.cell)));
  // A value that is not a cell (a stray row) has no ancestor; on-demand tiles skip it too.
  const cells = all.filter((c) => resolutionOf(spatialIndex.scheme, c) === r);
  return { cells, skipped: all.length - cells.length };
}

/** Builds and stores every tile of a spatial-index plan, resolution by resolution. */
export async function writeSpatialTiles(
  driver: WarehouseDriver,
  plan: TilesetPlan,
  writer: TilesetWriter,
  options: BuildOptions,
  progress: TilesetProgress,
  report: () => void,
): Promise<void> {
  const spatialIndex = plan.inspection.spatialIndex!;
  const { source } = plan;
  const { minZoom, maxZoom, maxFeatures } = plan.options;
  for (let z = minZoom; z <= maxZoom; z += 1) {
    throwIfCancelled(options.signal);
    progress.zoom = z;
    const { cells, skipped } = await listTileCells(driver, spatialIndex, source, z, options);
    progress.tilesDone += skipped;
    await forEachConcurrently(cells, options.concurrency ?? DEFAULT_CONCURRENCY, async (cell) => {
      throwIfCancelled(options.signal);
      const built = await buildSpatialTile(
        driver,
        spatialIndex,
        source,
        { cell, z, aggregationResLevel: source.aggregationResLevel, maxCells: maxFeatures },
        { timeoutMs: options.timeoutMs, signal: options.signal },
      );
      if (built.body) await writer.add(cellTileAddress(spatialIndex.scheme, cell), built.body);
      progress.tilesDone += 1;
      report();
    });
  }
}
