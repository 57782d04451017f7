/**
 * Encodes a tile from per-feature rows (the row path): clip the WKB geometries to the tile, lay
 * the result out as the PostGIS JSON path does, and hand it to the same reader and encoders, so
 * the two paths share every rule from there on. Pure and synchronous, for the worker pool.
 */
import { encodeLaidOutTile, type EncodedTile } from './encode-tile.js';
import { clipRowsToTile } from './row-tile-clip.js';
import { rowPropertyValue } from './row-tile-values.js';
import type { TileGrid } from './tile-grid.js';
import type { TileProperty, TilePropertyValue } from './tile-properties.js';

export interface FeatureRow {
  /** WKB as bytes or hex text, in WGS84. */
  wkb: unknown;
  /** Raw column values, one per tile property. */
  values: unknown[];
}

export interface EncodeRowTileTask {
  rows: FeatureRow[];
  format: 'mvt' | 'binary';
  grid: TileGrid;
  /** The MVT grid of the request's resolution; it sets the simplification tolerance. */
  mvtExtent: number;
  properties: TileProperty[];
  maxFeatures: number;
}

/** `[xs, ys, shapes, values0, values1, ...]`, the JSON path's layout, for the rows with a shape. */
type ColumnLayout = [unknown[], unknown[], unknown[], ...TilePropertyValue[][]];

function layoutRows(task: EncodeRowTileTask): ColumnLayout {
  const placed = clipRowsToTile(
    task.rows.map((row) => row.wkb),
    task.grid,
    task.mvtExtent,
  );
  const layout: ColumnLayout = [[], [], [], ...task.properties.map(() => [])];
  placed.forEach((place, row) => {
    if (!place) return;
    const isPoint = 'x' in place;
    layout[0].push(isPoint ? place.x : null);
    layout[1].push(isPoint ? place.y : null);
    layout[2].push(isPoint ? null : place.shape);
    task.properties.forEach((property, i) => {
      layout[3 + i]!.push(rowPropertyValue(task.rows[row]!.values[i], property));
    });
  });
  return layout;
}

/**
 * The cap counts rows the warehouse returned for the buffered box, so a tile reads as cut when
 * the source had more such rows than `maxFeatures`, even if a few of them fall in the buffer.
 */
export function encodeRowTile(task: EncodeRowTileTask): EncodedTile {
  const encoded = encodeLaidOutTile(layoutRows(task), task);
  return { ...encoded, truncated: task.rows.length > task.maxFeatures };
}
