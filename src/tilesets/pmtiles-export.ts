/**
 * Exports an MVT tileset table to a PMTiles v3 archive, the single-file format that static
 * hosting, MapLibre (through the pmtiles protocol) and tile servers read.
 */
import { parseTableName } from '../maps/table-name.js';
import type { WarehouseDriver } from '../warehouses/driver.js';
import { PmtilesWriter, tileIdOf } from './pmtiles-writer.js';
import { tilesetErrors } from './tileset-errors.js';
import { schemeOfTileset } from './tileset-metadata.js';
import { TilesetTable } from './tileset-table.js';

/** Tiles read from the warehouse per statement. */
const READ_BATCH_TILES = 100;

export interface PmtilesExportResult {
  tileset: string;
  output: string;
  tileCount: number;
  minzoom: number;
  maxzoom: number;
}

export interface PmtilesExportOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Writes tileset `name` to `outputPath`; a failure leaves no file behind. */
export async function exportTilesetToPmtiles(
  driver: WarehouseDriver,
  name: string,
  outputPath: string,
  options: PmtilesExportOptions,
): Promise<PmtilesExportResult> {
  const table = new TilesetTable(driver, name, parseTableName(name), options.timeoutMs);
  const metadata = await table.readMetadata(options.signal);
  const scheme = schemeOfTileset(metadata);
  if (scheme !== 'xyz') throw tilesetErrors.exportNeedsVectorTiles(name, scheme);
  if (metadata.format !== 'mvt') throw tilesetErrors.exportNeedsMvt(name);
  const tiles = (await table.listTiles(options.signal))
    .map((tile) => ({ ...tile, id: tileIdOf(tile.z, tile.x, tile.y) }))
    .sort((a, b) => a.id - b.id);

  const writer = await PmtilesWriter.create(outputPath);
  try {
    for (let start = 0; start < tiles.length; start += READ_BATCH_TILES) {
      const batch = tiles.slice(start, start + READ_BATCH_TILES);
      const bodies = await table.readTiles(batch, options.signal);
      for (const tile of batch) {
        const body = bodies.get(`${tile.z}/${tile.x}/${tile.y}`);
        if (body) await writer.addTile(tile.z, tile.x, tile.y, body);
      }
      options.onProgress?.(Math.min(start + batch.length, tiles.length), tiles.length);
    }
    await writer.finish(
      {
        minZoom: metadata.minzoom,
        maxZoom: metadata.maxzoom,
        bounds: metadata.bounds,
        center: metadata.center,
      },
      {
        name,
        description: metadata.source.type === 'table' ? `${metadata.source.name}` : 'query',
        version: '1.0.0',
        type: 'overlay',
        format: 'pbf',
        generator: 'graticule',
        vector_layers: metadata.vector_layers,
        tilestats: metadata.tilestats,
        created_at: metadata.created_at,
      },
    );
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return {
    tileset: name,
    output: outputPath,
    tileCount: writer.tileCount,
    minzoom: metadata.minzoom,
    maxzoom: metadata.maxzoom,
  };
}
